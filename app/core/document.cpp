#include "document.h"

#include "core/error.h"
#include "pooltask.h"

#include <QFutureWatcher>
#include <QUndoStack>

#include <numeric>

namespace qs {
namespace {
// Results kept per tensor beyond the ones the plans show: enough for a few undo steps.
constexpr int kCachedPerRow = 4;
} // namespace

bool sameSpec(const std::optional<QuantSpec>& a, const std::optional<QuantSpec>& b)
{
    if (!a || !b) return !a && !b;
    return a->format == b->format && a->granularity == b->granularity &&
           a->calibration == b->calibration && a->rounding == b->rounding && a->seed == b->seed;
}

Document::Document(QObject* parent) : QObject(parent), m_undo(new QUndoStack(this))
{
    auto slot = std::make_shared<Slot>();
    slot->id = m_nextSlotId++;
    slot->name = QStringLiteral("A");
    slot->plan = Plan::uniform("int8", Granularity{Granularity::Kind::Channel, 0});
    m_slots.push_back(std::move(slot));
}

Document::~Document()
{
    for (auto* job : m_jobs)
        delete job; // each waits for its own work
}

void Document::open(const QString& path)
{
    const quint64 id = ++m_openId;
    auto* watcher = new QFutureWatcher<std::shared_ptr<const Model>>(this);
    auto error = std::make_shared<QString>();
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, error, path, id] {
        watcher->deleteLater();
        if (id != m_openId) return; // a newer open superseded this one
        if (!error->isEmpty()) {
            emit openFailed(*error);
            return;
        }
        setModel(watcher->result(), path);
    });
    using ModelPtr = std::shared_ptr<const Model>;
    auto open = [path, error](QPromise<ModelPtr>& promise) {
        try {
            promise.addResult(openModel(path.toStdString()));
        } catch (const std::exception& e) {
            *error = QString::fromUtf8(e.what());
            promise.addResult(ModelPtr());
        }
    };
    watcher->setFuture(runTask<ModelPtr>(QThreadPool::globalInstance(), std::move(open)));
}

void Document::setModel(std::shared_ptr<const Model> model, const QString& path)
{
    cancel();
    emit modelAboutToChange();
    m_model = std::move(model);
    m_path = path;
    m_costTables.clear();
    // The plans' defaults and rules carry over to the new model; entries and locks name the
    // old model's tensors, and the undo history edits them.
    for (auto& slot : m_slots) {
        slot->plan.tensors.clear();
        slot->plan.locked.clear();
        resetSlotResults(*slot);
    }
    m_undo->clear();
    m_cache = QVector<QVector<TensorResultPtr>>(tensorCount());
    emit modelOpened();
    requantizeAll();
}

void Document::resetSlotResults(Slot& slot)
{
    slot.results = QVector<TensorResultPtr>(tensorCount());
    slot.revision = QVector<quint64>(tensorCount(), 0);
}

TensorResultPtr Document::resultOf(int plan, int row) const
{
    if (plan < 0 || plan >= planCount()) return {};
    return m_slots[static_cast<std::size_t>(plan)]->results.value(row);
}

void Document::requantizeAll()
{
    if (!m_model) return;
    cancel();
    std::vector<int> rows(static_cast<std::size_t>(tensorCount()));
    std::iota(rows.begin(), rows.end(), 0);
    // The active plan first, so what the user looks at fills in before the others.
    computeRows(active(), rows);
    for (auto& slot : m_slots)
        if (slot.get() != &active()) computeRows(*slot, rows);
}

void Document::computeRows(Slot& slot, std::vector<int> rows)
{
    if (!m_model) return;
    const bool isActive = &slot == &active();
    std::vector<TensorTask> tasks;
    for (int row : rows) {
        const auto spec = slot.plan.resolve(tensor(row));
        ++slot.revision[row];
        if (auto hit = cached(row, spec)) {
            slot.results[row] = hit;
            if (isActive) emit resultChanged(row);
            emit planResultChanged(indexOf(slot.id), row);
            continue;
        }
        tasks.push_back({row, spec, slot.revision[row]});
    }
    if (tasks.empty()) return;
    auto* job = new QuantizeJob(&m_pool, this);
    m_jobs.push_back(job);
    const quint64 slotId = slot.id;
    connect(job, &QuantizeJob::tensorFinished, this,
            [this, slotId](const TensorResultPtr& r) { acceptResult(slotId, r); });
    connect(job, &QuantizeJob::progress, this, &Document::progress);
    connect(job, &QuantizeJob::failed, this, &Document::jobFailed);
    connect(job, &QuantizeJob::finished, this, [this, job] {
        m_jobs.erase(std::find(m_jobs.begin(), m_jobs.end(), job));
        job->deleteLater();
        if (m_jobs.empty()) emit busyChanged(false);
    });
    const bool wasBusy = m_jobs.size() > 1;
    job->start(m_model, std::move(tasks));
    if (!wasBusy) emit busyChanged(true);
}

void Document::acceptResult(quint64 slotId, const TensorResultPtr& r)
{
    if (!r || r->index < 0 || r->index >= tensorCount()) return;
    remember(r);
    const int plan = indexOf(slotId);
    if (plan < 0) return; // the plan was removed while this was computed
    Slot& slot = *m_slots[static_cast<std::size_t>(plan)];
    // A result computed for an older spec of its row is stale: a newer job will deliver.
    if (r->revision != slot.revision[r->index]) return;
    slot.results[r->index] = r;
    if (plan == m_active) emit resultChanged(r->index);
    emit planResultChanged(plan, r->index);
}

void Document::remember(const TensorResultPtr& r)
{
    auto& list = m_cache[r->index];
    list.removeIf([&](const TensorResultPtr& c) { return sameSpec(c->spec, r->spec); });
    list.prepend(r);
    if (list.size() > kCachedPerRow) list.removeLast();
}

TensorResultPtr Document::cached(int row, const std::optional<QuantSpec>& spec) const
{
    for (const auto& r : m_cache.value(row))
        if (sameSpec(r->spec, spec)) return r;
    // Another plan may hold one that has been pushed out of the cache.
    for (const auto& slot : m_slots)
        if (const auto& r = slot->results.value(row); r && sameSpec(r->spec, spec)) return r;
    return {};
}

void Document::cancel()
{
    for (auto* job : m_jobs)
        job->cancel();
}

bool Document::isBusy() const
{
    return !m_jobs.empty();
}

quint64 Document::totalBytesBefore() const
{
    quint64 n = 0;
    for (int row = 0; row < tensorCount(); ++row)
        n += tensor(row).byteSize;
    return n;
}

quint64 Document::totalBytesAfter() const
{
    return totalBytesAfter(m_active);
}

quint64 Document::totalBytesAfter(int plan) const
{
    quint64 n = 0;
    for (int row = 0; row < tensorCount(); ++row) {
        const auto r = resultOf(plan, row);
        n += r ? r->bytesAfter : tensor(row).byteSize;
    }
    return n;
}

} // namespace qs

#include "document.h"

#include "core/error.h"

#include <QFutureWatcher>
#include <QtConcurrent/QtConcurrentRun>

#include <numeric>

namespace qs {

Document::Document(QObject* parent) : QObject(parent)
{
    m_plan = Plan::uniform("int8", Granularity{Granularity::Kind::Channel, 0});
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
    watcher->setFuture(QtConcurrent::run([path, error]() -> std::shared_ptr<const Model> {
        try {
            return openModel(path.toStdString());
        } catch (const std::exception& e) {
            *error = QString::fromUtf8(e.what());
            return nullptr;
        }
    }));
}

void Document::setModel(std::shared_ptr<const Model> model, const QString& path)
{
    cancel();
    emit modelAboutToChange();
    m_model = std::move(model);
    m_path = path;
    m_plan.tensors.clear();
    m_results = QVector<TensorResultPtr>(tensorCount());
    m_revision = QVector<quint64>(tensorCount(), 0);
    emit modelOpened();
    requantizeAll();
}

std::optional<Precision> Document::precision(int row) const
{
    if (!m_model || !isQuantizable(tensor(row).dtype)) return std::nullopt;
    auto p = m_plan.precisionFor(tensor(row));
    if (p && p->format == "keep") return std::nullopt;
    if (p && !p->granularity)
        p->granularity =
            m_plan.defaultPrecision ? m_plan.defaultPrecision->granularity : std::nullopt;
    return p;
}

std::optional<QuantSpec> Document::specFor(int row) const
{
    return m_plan.resolve(tensor(row));
}

void Document::setPrecision(int row, const Precision& precision)
{
    if (!m_model || row < 0 || row >= tensorCount()) return;
    m_plan.tensors[tensor(row).name] = precision;
    ++m_revision[row];
    emit precisionChanged(row);
    startJob({row});
}

void Document::setDefaultPrecision(const Precision& precision)
{
    m_plan.defaultPrecision = precision;
    m_plan.tensors.clear();
    for (int row = 0; row < tensorCount(); ++row)
        emit precisionChanged(row);
    requantizeAll();
}

void Document::setPlan(const Plan& plan)
{
    plan.compileRules(); // throws before anything changes when a rule is bad
    m_plan = plan;
    for (int row = 0; row < tensorCount(); ++row)
        emit precisionChanged(row);
    requantizeAll();
}

void Document::requantizeAll()
{
    if (!m_model) return;
    cancel();
    std::vector<int> rows(static_cast<std::size_t>(tensorCount()));
    std::iota(rows.begin(), rows.end(), 0);
    for (int row : rows)
        ++m_revision[row];
    startJob(std::move(rows));
}

void Document::startJob(std::vector<int> rows)
{
    std::vector<TensorTask> tasks;
    for (int row : rows)
        tasks.push_back({row, specFor(row), m_revision[row]});
    auto* job = new QuantizeJob(&m_pool, this);
    m_jobs.push_back(job);
    connect(job, &QuantizeJob::tensorFinished, this, &Document::acceptResult);
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

void Document::acceptResult(const TensorResultPtr& r)
{
    // A result computed for an older precision of its row is stale: a newer job will deliver.
    if (!r || r->index < 0 || r->index >= tensorCount() || r->revision != m_revision[r->index])
        return;
    m_results[r->index] = r;
    emit resultChanged(r->index);
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
    quint64 n = 0;
    for (int row = 0; row < tensorCount(); ++row)
        n += m_results[row] ? m_results[row]->bytesAfter : tensor(row).byteSize;
    return n;
}

} // namespace qs

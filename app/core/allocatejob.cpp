#include "allocatejob.h"

#include "core/error.h"
#include "formats/format.h"
#include "plan/presets.h"
#include "pooltask.h"
#include "qtexecutor.h"

#include <QPromise>

#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr std::size_t kCacheEntries = 4; // a few candidate lists or base plans to go back to

// Whether two specs store a tensor identically. Only the fields the format uses count: a
// candidate resolved against an int8@channel default carries that granularity even as q4_K.
// Seeds are equal by construction (both plans resolve with the base's seed).
bool sameQuantization(const std::optional<QuantSpec>& a, const std::optional<QuantSpec>& b)
{
    if (!a || !b) return !a && !b;
    if (a->format != b->format) return false;
    if (a->format->takesGranularity() && !(a->granularity == b->granularity)) return false;
    return !a->format->integer() ||
           (a->calibration == b->calibration && a->rounding == b->rounding);
}

// What a candidate resolves to for a tensor, exactly as computeCandidates resolves it.
std::optional<QuantSpec> candidateSpec(const Plan& base, const alloc::Candidate& c,
                                       const TensorInfo& t)
{
    Plan probe;
    probe.defaultPrecision = base.defaultPrecision;
    probe.seed = base.seed;
    probe.tensors[t.name] = c.precision;
    return probe.resolve(t);
}

std::string specLabel(const std::optional<QuantSpec>& s)
{
    if (!s) return "keep";
    std::string label(s->format->name);
    if (s->format->takesGranularity()) {
        label += '@';
        label += s->granularity.toString();
    }
    return label;
}

AllocationMix evaluateMix(const Model& model, const Plan& base, const alloc::CandidateTable& table,
                          const std::vector<alloc::Item>& items, const PlanPreset& preset)
{
    AllocationMix mix;
    mix.id = preset.id;
    mix.name = preset.name;
    Plan plan = makePresetPlan(preset.id, model.tensors);
    plan.seed = base.seed;
    plan.compileRules();
    for (const auto& e : table.tensors) {
        const alloc::Option* chosen = nullptr;
        const TensorInfo& t = model.tensors[e.tensor];
        if (e.role != alloc::Role::Free) {
            chosen = &e.options.front(); // locked and pinned tensors keep their precision
        } else {
            const auto want = plan.resolve(t);
            for (const auto& o : e.options)
                if (sameQuantization(
                        candidateSpec(base, table.candidates[std::size_t(o.candidate)], t), want))
                    chosen = &o;
            if (!chosen) {
                const std::string label = specLabel(want);
                bool listed = false;
                for (const auto& c : table.candidates)
                    listed = listed || sameQuantization(candidateSpec(base, c, t), want);
                mix.unavailable = label;
                mix.unavailable += listed ? " cannot store " : " is not a candidate (needed for ";
                mix.unavailable += t.name;
                if (!listed) mix.unavailable += ')';
                return mix;
            }
        }
        mix.bytes += chosen->bytes;
        mix.distortion += chosen->distortion;
    }
    mix.available = true;
    try {
        mix.optimalDistortion = alloc::solve(items, mix.bytes).distortion;
    } catch (const Error&) {
        mix.optimalDistortion = std::numeric_limits<double>::quiet_NaN();
    }
    return mix;
}

AllocationMix uniformMix(const alloc::CandidateTable& table, const std::vector<alloc::Item>& items,
                         int candidate)
{
    AllocationMix mix;
    const std::string& label = table.candidates[static_cast<std::size_t>(candidate)].label;
    mix.id = "uniform:" + label;
    mix.name = "all " + label;
    for (const auto& e : table.tensors) {
        const alloc::Option* chosen = e.role != alloc::Role::Free ? &e.options.front() : nullptr;
        for (const auto& o : e.options)
            if (e.role == alloc::Role::Free && o.candidate == candidate) chosen = &o;
        if (!chosen) {
            mix.unavailable = label;
            mix.unavailable += " cannot store some tensors";
            return mix;
        }
        mix.bytes += chosen->bytes;
        mix.distortion += chosen->distortion;
    }
    mix.available = true;
    try {
        mix.optimalDistortion = alloc::solve(items, mix.bytes).distortion;
    } catch (const Error&) {
        mix.optimalDistortion = std::numeric_limits<double>::quiet_NaN();
    }
    return mix;
}

std::string cacheKey(const Plan& plan, const std::vector<alloc::Candidate>& candidates,
                     const alloc::Measure& measure)
{
    // The whole plan, not only its pins and locks: its default's granularity and its seed also
    // change how a candidate resolves.
    std::string key = measure.key();
    for (const auto& c : candidates) {
        key += '\n';
        key += c.label;
    }
    key += '\n';
    key += plan.toJson();
    return key;
}

} // namespace

alloc::Allocation AllocationTable::solve(std::uint64_t budget) const
{
    return alloc::allocate(*model, table, base, budget);
}

std::uint64_t AllocationTable::budgetFromBpw(double bpw) const
{
    return alloc::budgetFromBpw(bpw, static_cast<std::uint64_t>(table.params));
}

double AllocationTable::bitsPerWeight(std::uint64_t bytes) const
{
    return table.params > 0 ? 8.0 * static_cast<double>(bytes) / static_cast<double>(table.params)
                            : 0.0;
}

std::uint64_t AllocationTable::minBytes() const
{
    return frontier.empty() ? 0 : frontier.front().bytes;
}

std::uint64_t AllocationTable::maxBytes() const
{
    return frontier.empty() ? 0 : frontier.back().bytes;
}

std::vector<AllocationMix> evaluateMixes(const Model& model, const Plan& base,
                                         const alloc::CandidateTable& table,
                                         const std::vector<alloc::Item>& items)
{
    std::vector<AllocationMix> mixes;
    for (const PlanPreset& p : planPresets())
        if (p.id == "q4_k_m" || p.id == "q5_k_m")
            mixes.push_back(evaluateMix(model, base, table, items, p));
    // The uniform plans of integer candidates: for int formats they are what one would pick
    // without an allocation, so the gain is measured against them.
    for (std::size_t c = 0; c < table.candidates.size(); ++c) {
        const Format* f = findFormat(table.candidates[c].precision.format);
        if (f && f->integer()) mixes.push_back(uniformMix(table, items, static_cast<int>(c)));
    }
    return mixes;
}

AllocateJob::AllocateJob(QThreadPool* pool, QObject* parent) : QObject(parent), m_pool(pool)
{
    qRegisterMetaType<AllocationTablePtr>();
    m_progressTimer.setInterval(50);
    connect(&m_progressTimer, &QTimer::timeout, this, [this] {
        if (m_shared) emit progress(m_shared->done.load(), m_shared->total.load());
    });
}

AllocateJob::~AllocateJob()
{
    // Superseded requests may still be winding down: none may outlive the job.
    const auto watchers = findChildren<QFutureWatcherBase*>();
    for (QFutureWatcherBase* w : watchers) {
        w->disconnect(this);
        w->cancel();
    }
    for (QFutureWatcherBase* w : watchers)
        w->waitForFinished();
}

bool AllocateJob::isRunning() const
{
    return m_watcher && m_watcher->isRunning();
}

void AllocateJob::cancel()
{
    ++m_id; // whatever is still on its way belongs to no request now
    if (m_watcher) m_watcher->cancel();
    m_progressTimer.stop();
}

void AllocateJob::clearCache()
{
    m_cache.clear();
}

AllocationTablePtr AllocateJob::lookup(const std::shared_ptr<const Model>& model,
                                       const std::string& key)
{
    for (auto it = m_cache.begin(); it != m_cache.end(); ++it) {
        if (it->key != key || it->table->model != model) continue;
        CacheEntry hit = *it;
        m_cache.erase(it);
        m_cache.push_front(hit);
        return hit.table;
    }
    return {};
}

quint64 AllocateJob::start(std::shared_ptr<const Model> model, const Plan& plan,
                           const std::vector<alloc::Candidate>& candidates,
                           const alloc::Measure& measure,
                           std::shared_ptr<const alloc::CostTableRecord> stored)
{
    if (m_watcher) m_watcher->cancel(); // not waited for: the GUI thread never blocks on a job
    m_progressTimer.stop();
    const quint64 id = ++m_id;
    const std::string key = cacheKey(plan, candidates, measure);
    if (AllocationTablePtr cached = lookup(model, key)) {
        QMetaObject::invokeMethod(
            this, [this, id, cached] { deliver(id, cached, true); }, Qt::QueuedConnection);
        return id;
    }
    m_shared = std::make_shared<Shared>();
    auto shared = m_shared;
    QThreadPool* pool = m_pool;
    auto future = runTask<AllocationTablePtr>(pool, [model, plan, candidates, measure, shared,
                                                     pool,
                                                     stored](QPromise<AllocationTablePtr>& promise) {
        QtExecutor executor(pool);
        Control control;
        control.executor = &executor;
        control.cancelled = [&promise] { return promise.isCanceled(); };
        alloc::CandidateProgress progress;
        progress.evaluated = [&shared](std::size_t done, std::size_t total) {
            shared->total = total;
            // Evaluations finish out of order; the count only grows.
            quint64 seen = shared->done.load();
            while (seen < done && !shared->done.compare_exchange_weak(seen, done)) {
            }
        };
        try {
            auto t = std::make_shared<AllocationTable>();
            t->model = model;
            t->base = plan;
            t->measureKey = measure.key();
            t->table = alloc::computeCandidates(*model, plan, candidates, measure, control,
                                                progress, stored.get());
            t->items = alloc::toItems(t->table);
            t->frontier = alloc::frontier(t->items);
            t->mixes = evaluateMixes(*model, plan, t->table, t->items);
            promise.addResult(AllocationTablePtr(std::move(t)));
        } catch (const Cancelled&) { // the future is already cancelled
        } catch (const std::exception& e) {
            shared->error = QString::fromUtf8(e.what());
        }
    });
    auto* watcher = new Watcher(this);
    m_watcher = watcher;
    connect(watcher, &Watcher::finished, this,
            [this, watcher, id, shared, key] { onFinished(watcher, id, shared, key); });
    watcher->setFuture(future);
    m_progressTimer.start();
    emit progress(0, 0);
    return id;
}

void AllocateJob::onFinished(Watcher* watcher, quint64 id, const std::shared_ptr<Shared>& shared,
                             const std::string& key)
{
    watcher->deleteLater();
    if (watcher == m_watcher) m_watcher = nullptr;
    if (id != m_id || watcher->isCanceled()) return; // superseded or cancelled: stale
    m_progressTimer.stop();
    if (!shared->error.isEmpty()) {
        emit failed(id, shared->error);
        return;
    }
    if (watcher->future().resultCount() == 0) return;
    const AllocationTablePtr table = watcher->result();
    m_cache.push_front({key, table});
    if (m_cache.size() > kCacheEntries) m_cache.pop_back();
    emit progress(shared->total.load(), shared->total.load());
    deliver(id, table, false);
}

void AllocateJob::deliver(quint64 id, const AllocationTablePtr& table, bool fromCache)
{
    if (id != m_id) return; // a newer request or a cancel came first
    m_table = table;
    emit resultReady(id, table, fromCache);
}

} // namespace qs

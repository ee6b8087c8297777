// Background computation of the allocation's candidate costs (every tensor under every
// candidate format), cached so that moving the budget only re-solves, which takes milliseconds.
#pragma once

#include "alloc/allocation.h"
#include "io/model.h"
#include "plan/plan.h"

#include <QFutureWatcher>
#include <QMetaType>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <deque>
#include <memory>
#include <string>
#include <vector>

class QThreadPool;

namespace qs {

// One of llama.cpp's fixed mixes evaluated with the same candidate costs as the allocation,
// so that it can be placed next to the frontier. Only the free tensors take the mix's format;
// locked and pinned ones keep theirs, as in the allocation.
struct AllocationMix
{
    std::string id;   // "q4_k_m"
    std::string name; // "Q4_K_M-like"
    bool available = false;
    std::string unavailable; // why not: "q6_K (for output.weight) is not a candidate"
    std::uint64_t bytes = 0;
    double distortion = 0.0;
    // The optimal allocation at the mix's own size (its distortion; NaN when it could not be
    // solved), which shows what choosing per tensor gains.
    double optimalDistortion = 0.0;
};

// Everything that does not depend on the budget.
struct AllocationTable
{
    std::shared_ptr<const Model> model;
    Plan base; // the plan the costs were computed for (pins, locks, default, rules)
    std::string measureKey; // alloc::Measure::key() of the measure used
    alloc::CandidateTable table;
    std::vector<alloc::Item> items;
    std::vector<alloc::FrontierPoint> frontier;
    std::vector<AllocationMix> mixes;

    // The allocation within `budget` bytes (milliseconds: fine on the GUI thread). Throws
    // qs::Error when even the smallest choices do not fit.
    alloc::Allocation solve(std::uint64_t budget) const;
    std::uint64_t budgetFromBpw(double bpw) const;
    double bitsPerWeight(std::uint64_t bytes) const; // over the budgeted tensors
    std::uint64_t minBytes() const;                  // the frontier's first vertex
    std::uint64_t maxBytes() const;                  // its last
};
using AllocationTablePtr = std::shared_ptr<const AllocationTable>;

// The mixes of llama.cpp's presets that are compared with the allocation, and the uniform
// plan of every integer candidate ("all int4@channel").
std::vector<AllocationMix> evaluateMixes(const Model& model, const Plan& base,
                                         const alloc::CandidateTable& table,
                                         const std::vector<alloc::Item>& items);

class AllocateJob : public QObject
{
    Q_OBJECT
public:
    explicit AllocateJob(QThreadPool* pool, QObject* parent = nullptr);
    ~AllocateJob() override; // cancels and waits for the work, which may reference this job

    // Computes (or takes from the cache) the table of `model` under `plan` for these candidates
    // and measure, and returns the request's id. The result always arrives later through
    // resultReady, on this object's thread; a newer request supersedes an older one. Costs in
    // `stored` (saved with a session for the same request) are reused instead of computed.
    quint64 start(std::shared_ptr<const Model> model, const Plan& plan,
                  const std::vector<alloc::Candidate>& candidates, const alloc::Measure& measure,
                  std::shared_ptr<const alloc::CostTableRecord> stored = {});
    void cancel(); // the current request reports nothing
    bool isRunning() const;
    quint64 currentId() const { return m_id; }
    AllocationTablePtr table() const { return m_table; } // the latest delivered, or null
    // The cached tables keep their models open: clear when the document's model goes away.
    void clearCache();
    int cacheSize() const { return static_cast<int>(m_cache.size()); }

signals:
    // done and total count (tensor, candidate) evaluations.
    void progress(quint64 done, quint64 total);
    void resultReady(quint64 id, qs::AllocationTablePtr table, bool fromCache);
    void failed(quint64 id, const QString& message);

private:
    struct Shared
    {
        std::atomic<quint64> done{0}, total{0};
        QString error; // written by the worker before it finishes, read after
    };
    struct CacheEntry
    {
        std::string key;
        AllocationTablePtr table; // holds its model: a reopened model never matches
    };
    using Watcher = QFutureWatcher<AllocationTablePtr>;
    void onFinished(Watcher* watcher, quint64 id, const std::shared_ptr<Shared>& shared,
                    const std::string& key);
    void deliver(quint64 id, const AllocationTablePtr& table, bool fromCache);
    AllocationTablePtr lookup(const std::shared_ptr<const Model>& model, const std::string& key);

    QThreadPool* m_pool;
    QTimer m_progressTimer;
    std::shared_ptr<Shared> m_shared;
    Watcher* m_watcher = nullptr;
    quint64 m_id = 0;
    AllocationTablePtr m_table;
    std::deque<CacheEntry> m_cache; // most recent first
};

} // namespace qs

Q_DECLARE_METATYPE(qs::AllocationTablePtr)

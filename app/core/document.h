// The open model, its named quantization plans and the latest result of every tensor under
// each plan. Every plan edit goes through the undo stack.
#pragma once

#include "alloc/cost_record.h"
#include "io/model.h"
#include "plan/plan.h"
#include "quantizejob.h"
#include "tensorresult.h"

#include <QObject>
#include <QThreadPool>
#include <QVector>

#include <memory>

class QUndoStack;

namespace qs {

class Document : public QObject
{
    Q_OBJECT
public:
    explicit Document(QObject* parent = nullptr);
    ~Document() override;

    // Opens in the background; emits modelOpened or openFailed, then quantizes every tensor.
    void open(const QString& path);
    // Synchronous variant for tests and the command line; throws qs::Error.
    void setModel(std::shared_ptr<const Model> model, const QString& path);

    const Model* model() const { return m_model.get(); }
    std::shared_ptr<const Model> sharedModel() const { return m_model; } // for background jobs
    QString path() const { return m_path; }
    int tensorCount() const { return m_model ? static_cast<int>(m_model->tensors.size()) : 0; }
    const TensorInfo& tensor(int row) const
    {
        return m_model->tensors[static_cast<std::size_t>(row)];
    }

    // --- Plans. There is always at least one; the active one drives the table and plots.
    int planCount() const { return static_cast<int>(m_slots.size()); }
    int activePlan() const { return m_active; }
    QString planName(int plan) const { return m_slots[static_cast<std::size_t>(plan)]->name; }
    const Plan& planAt(int plan) const { return m_slots[static_cast<std::size_t>(plan)]->plan; }
    TensorResultPtr resultOf(int plan, int row) const;
    void setActivePlan(int plan);
    QString nextPlanName() const; // "B" after "A", …
    // Adds a plan (undoable) and makes it active; returns its index.
    int addPlan(const QString& name, const Plan& plan);
    void duplicateActivePlan();
    void removePlan(int plan); // undoable; the last plan cannot be removed
    void renamePlan(int plan, const QString& name);

    // --- The active plan and its results.
    const Plan& plan() const { return planAt(m_active); }
    TensorResultPtr result(int row) const { return resultOf(m_active, row); }
    // The precision that applies to a row (keep when nullopt), and the plan's default.
    std::optional<Precision> precision(int row) const;
    bool isLocked(int row) const;

    // Edits of the active plan; each is one undo step and recomputes only the tensors whose
    // quantization changed (results already computed for the same spec are reused).
    void setPrecision(int row, const Precision& precision);
    void setPrecision(const QVector<int>& rows, const Precision& precision);
    void setDefaultPrecision(const Precision& precision); // also clears per-tensor entries
    void setPlan(const Plan& plan, const QString& description = {}); // throws on a bad rule
    void setRules(const std::vector<PlanRule>& rules);                // throws on a bad rule
    void setLocked(const QVector<int>& rows, bool locked);

    QUndoStack* undoStack() const { return m_undo; }

    // A saved session: its model, plans and the results stored with them, shown without
    // recomputing; tensors without a stored result are computed. The undo history starts anew.
    struct RestoredPlan
    {
        QString name;
        Plan plan;
        QVector<TensorResultPtr> results; // per row; null where nothing was stored
        // Allocation costs stored with the session that were computed with this plan as base.
        std::vector<alloc::CostTableRecord> costTables;
    };
    void restore(std::shared_ptr<const Model> model, const QString& path,
                 std::vector<RestoredPlan> plans, int active);

    // Allocation candidate costs computed for this model, saved with the session so that
    // allocating again with the same request (measure, candidates, base plan) reuses them.
    // Dropped when another model is opened.
    const std::vector<alloc::CostTableRecord>& costTables() const { return m_costTables; }
    void rememberCostTable(alloc::CostTableRecord table); // replaces one for the same request
    const alloc::CostTableRecord* findCostTable(const std::string& measureKey,
                                                const std::vector<std::string>& candidates,
                                                const std::string& planJson) const;

    void requantizeAll();
    void cancel();
    bool isBusy() const;

    // Model totals over the active plan's latest results (bytes as stored and as planned).
    quint64 totalBytesBefore() const;
    quint64 totalBytesAfter() const;
    quint64 totalBytesAfter(int plan) const;

signals:
    void modelAboutToChange();
    void modelOpened();
    void openFailed(const QString& message);
    void resultChanged(int row); // of the active plan
    void planResultChanged(int plan, int row);
    void precisionChanged(int row); // of the active plan (format, granularity, lock, …)
    void plansChanged();            // added, removed or renamed
    void activePlanChanged(int plan);
    void progress(int tensorsDone, int tensorsTotal, quint64 bytesDone, quint64 bytesTotal);
    void busyChanged(bool busy);
    void jobFailed(const QString& message);

private:
    friend class PlanEditCommand;
    friend class PlanListCommand;

    struct Slot
    {
        quint64 id = 0; // stable across removals, so undo commands and jobs can name it
        QString name;
        Plan plan;
        QVector<TensorResultPtr> results;
        QVector<quint64> revision; // bumped on every change of a row's spec
    };
    using SlotPtr = std::shared_ptr<Slot>;

    int indexOf(quint64 slotId) const; // -1 when removed
    Slot& active() { return *m_slots[static_cast<std::size_t>(m_active)]; }
    // Replaces a plan and recomputes the rows whose spec changed (the undo commands' work).
    void applyPlan(quint64 slotId, const Plan& plan);
    void insertSlot(int index, SlotPtr slot);
    SlotPtr takeSlot(int index);
    void pushEdit(const Plan& after, const QString& text);
    void computeRows(Slot& slot, std::vector<int> rows);
    void acceptResult(quint64 slotId, const TensorResultPtr& r);
    void remember(const TensorResultPtr& r);
    TensorResultPtr cached(int row, const std::optional<QuantSpec>& spec) const;
    void resetSlotResults(Slot& slot);

    QThreadPool m_pool;
    QUndoStack* m_undo;
    std::shared_ptr<const Model> m_model;
    QString m_path;
    std::vector<SlotPtr> m_slots;
    int m_active = 0;
    quint64 m_nextSlotId = 1;
    // Recent results per row, whatever plan asked for them: undo, redo and plans that share a
    // layer's spec reuse them instead of recomputing.
    QVector<QVector<TensorResultPtr>> m_cache;
    std::vector<QuantizeJob*> m_jobs;
    std::vector<alloc::CostTableRecord> m_costTables; // most recent first
    quint64 m_openId = 0; // drops the result of an open superseded by a newer one
};

// Two specs quantize a tensor identically (both nullopt: kept as stored).
bool sameSpec(const std::optional<QuantSpec>& a, const std::optional<QuantSpec>& b);

} // namespace qs

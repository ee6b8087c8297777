// The ordered rules of a plan being edited (regex → precision, as llama.cpp's --tensor-type),
// with how many of the model's tensors each rule decides and whether its expression is valid.
#pragma once

#include "plan/plan.h"

#include <QAbstractTableModel>

#include <vector>

namespace qs {

class Document;

class RulesModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column : int {
        MatchColumn,
        FormatColumn,
        GranularityColumn,
        CalibrationColumn,
        CountColumn, // tensors this rule decides (first matching rule, no per-tensor entry)
        ColumnCount
    };

    explicit RulesModel(const Document* document, QObject* parent = nullptr);

    void setRules(std::vector<PlanRule> rules);
    const std::vector<PlanRule>& rules() const { return m_rules; }
    // The first problem of the rules, or empty when they can be applied.
    QString problem() const { return m_problem; }

    void addRule(const PlanRule& rule);
    void removeRule(int row);
    void moveRule(int from, int to);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

signals:
    void rulesEdited();

private:
    void recount();

    const Document* m_document;
    std::vector<PlanRule> m_rules;
    std::vector<int> m_counts;
    std::vector<QString> m_errors; // per rule
    QString m_problem;
};

} // namespace qs

// The number explorer panel: a value, an integer range, and how every format stores the value.
#pragma once

#include "teach/explain.h"

#include <QWidget>

#include <optional>

class QCustomPlot;
class QLabel;
class QLineEdit;
class QTableWidget;

namespace qs {

// A view only: it never computes a conversion. Edits emit requestExplain; whoever owns the panel
// computes the Explanation (engine/teach/explain.h) and hands it back with setExplanation, or
// reports a problem with setError.
class NumberExplorer : public QWidget
{
    Q_OBJECT
public:
    enum Column {
        FormatColumn,
        BitsColumn,
        CodeColumn,
        DecodedColumn,
        AbsErrorColumn,
        RelErrorColumn,
        ColumnCount
    };

    explicit NumberExplorer(QWidget* parent = nullptr);

    void setExplanation(const Explanation& explanation);
    void setError(const QString& message); // keeps the last good table, greyed out
    // Emits requestExplain for what the fields hold now (on every edit, and to fill the panel at
    // start), or shows an error when a field is not a number.
    void requestCurrent();

    QLineEdit* valueEdit() const { return m_value; }
    QLineEdit* lowEdit() const { return m_low; }
    QLineEdit* highEdit() const { return m_high; }
    QTableWidget* table() const { return m_table; }
    QCustomPlot* numberLine() const { return m_line; }
    QLabel* rangeExplanation() const { return m_rangeText; }
    QLabel* errorLabel() const { return m_error; }
    // The format the number line shows (the table's current row).
    QString selectedFormat() const;
    void selectFormat(const QString& name);

signals:
    void requestExplain(double value, double lo, double hi);

private:
    void updateNumberLine();
    void updateRangeText();

    QLineEdit* m_value;
    QLineEdit* m_low;
    QLineEdit* m_high;
    QLabel* m_error;
    QTableWidget* m_table;
    QCustomPlot* m_line;
    QLabel* m_rangeText;
    std::optional<Explanation> m_shown;
};

} // namespace qs

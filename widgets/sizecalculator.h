// The model-size calculator panel: a parameter count and what the weights take in each format.
#pragma once

#include "teach/size_table.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QTableWidget;

namespace qs {

// A view only: edits emit requestSizes with the typed text; whoever owns the panel parses it and
// computes the SizeTable (engine/teach/size_table.h), then calls setTable, or setError.
class SizeCalculator : public QWidget
{
    Q_OBJECT
public:
    enum Column { FormatColumn, BitsColumn, BytesColumn, GigabytesColumn, FitsColumn, ColumnCount };

    explicit SizeCalculator(QWidget* parent = nullptr);

    void setTable(const SizeTable& table);
    void setError(const QString& message); // keeps the last good table, greyed out
    void requestCurrent();                 // emits requestSizes for the field's text

    QLineEdit* paramsEdit() const { return m_params; }
    QTableWidget* table() const { return m_table; }
    QLabel* summaryLabel() const { return m_summary; }
    QLabel* errorLabel() const { return m_error; }

signals:
    void requestSizes(const QString& params);

private:
    QLineEdit* m_params;
    QLabel* m_error;
    QLabel* m_summary;
    QTableWidget* m_table;
    QLabel* m_note;
};

} // namespace qs

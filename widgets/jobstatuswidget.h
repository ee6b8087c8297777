// Status-bar strip: quantization progress with a Cancel button, and the model's size totals.
#pragma once

#include <QTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace qs {

class Document;

class JobStatusWidget : public QWidget
{
    Q_OBJECT
public:
    explicit JobStatusWidget(Document* document, QWidget* parent = nullptr);

    QProgressBar* progressBar() const { return m_bar; }
    QPushButton* cancelButton() const { return m_cancel; }
    QLabel* totalsLabel() const { return m_totals; }

private:
    void setBusy(bool busy);
    void showProgress(int tensorsDone, int tensorsTotal, quint64 bytesDone, quint64 bytesTotal);
    void updateTotals();

    Document* m_document;
    QProgressBar* m_bar;
    QPushButton* m_cancel;
    QLabel* m_totals;
    QTimer m_totalsTimer; // coalesces per-tensor updates on large models
};

} // namespace qs

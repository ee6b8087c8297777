#include "exportcontroller.h"

#include "document.h"
#include "exportjob.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QProgressDialog>
#include <QThreadPool>

namespace qs {

ExportController::ExportController(Document* document, QWidget* window)
    : QObject(window), m_document(document), m_window(window), m_pool(new QThreadPool(this)),
      m_job(new ExportJob(m_pool, this))
{
    connect(m_job, &ExportJob::progress, this, [this](quint64 done, quint64 total) {
        // The dialog works in per-mille: byte counts overflow its int range on large models.
        if (m_dialog && total > 0) m_dialog->setValue(static_cast<int>(done * 1000 / total));
    });
    const auto closeDialog = [this] {
        if (m_dialog) m_dialog->deleteLater();
    };
    connect(m_job, &ExportJob::finished, this, [this, closeDialog](const QString& path) {
        closeDialog();
        emit exported(path);
    });
    connect(m_job, &ExportJob::failed, this, [this, closeDialog](const QString& message) {
        closeDialog();
        emit exportFailed(message);
    });
    connect(m_job, &ExportJob::cancelled, this, closeDialog);
}

ExportController::~ExportController()
{
    delete m_job; // cancels and waits before the pool goes
}

bool ExportController::isRunning() const
{
    return m_job->isRunning();
}

void ExportController::chooseAndExport()
{
    if (!m_document->model()) return;
    const QFileInfo source(m_document->path());
    const QString suggested = source.absolutePath() + QLatin1Char('/') + source.completeBaseName() +
                              QStringLiteral("-quantized.gguf");
    const QString path = QFileDialog::getSaveFileName(
        m_window, tr("Export Quantized Model"), suggested,
        tr("GGUF (*.gguf);;Packed safetensors (*.safetensors);;HDF5 (*.h5 *.hdf5)"));
    if (!path.isEmpty()) exportTo(path);
}

void ExportController::exportTo(const QString& path)
{
    if (!m_document->model() || isRunning()) return;
    m_dialog = new QProgressDialog(tr("Exporting %1\u2026").arg(QFileInfo(path).fileName()),
                                   tr("Cancel"), 0, 1000, m_window);
    m_dialog->setObjectName(QStringLiteral("exportProgress"));
    m_dialog->setWindowModality(Qt::WindowModal);
    m_dialog->setMinimumDuration(300);
    m_dialog->setAutoClose(false);
    m_dialog->setAutoReset(false);
    connect(m_dialog, &QProgressDialog::canceled, m_job, &ExportJob::cancel);
    m_job->start(m_document->sharedModel(), m_document->plan(), path);
}

} // namespace qs

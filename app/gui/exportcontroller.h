// File > Export: asks for a target, runs the export in the background behind a progress
// dialog with Cancel, and reports the outcome. The window only wires the action to it.
#pragma once

#include <QObject>
#include <QPointer>

class QProgressDialog;
class QThreadPool;
class QWidget;

namespace qs {

class Document;
class ExportJob;

class ExportController : public QObject
{
    Q_OBJECT
public:
    ExportController(Document* document, QWidget* window);
    ~ExportController() override;

    // Asks for a file name (GGUF, packed safetensors, HDF5), then exports.
    void chooseAndExport();
    // Exports the document's model with its plan to `path` (the format follows the extension).
    void exportTo(const QString& path);
    bool isRunning() const;
    ExportJob* job() const { return m_job; }

signals:
    void exported(const QString& path);
    void exportFailed(const QString& message);

private:
    Document* m_document;
    QWidget* m_window;
    QThreadPool* m_pool;
    ExportJob* m_job;
    QPointer<QProgressDialog> m_dialog;
};

} // namespace qs

// File → Export Report: the active plan as JSON, as a llama.cpp tensor-type file, as ONNX
// Runtime TensorQuantOverrides, and as an HTML or CSV report of its results.
#pragma once

#include <QObject>
#include <QString>

class QMainWindow;
class QMenu;

namespace qs {

class Document;

class ReportController : public QObject
{
    Q_OBJECT
public:
    enum class Kind { PlanJson, LlamaTensorTypes, OrtOverrides, Html, Csv };

    ReportController(Document* document, QMainWindow* window);
    QMenu* menu() const { return m_menu; }

    // Writes one kind of report; emits written or failed. Returns the notes for the user
    // (tensors another tool cannot express, caveats), empty when there are none.
    QString write(Kind kind, const QString& path);

signals:
    void written(const QString& path, const QString& notes);
    void failed(const QString& text, const QString& details);

private:
    void choose(Kind kind);

    Document* m_document;
    QMainWindow* m_window;
    QMenu* m_menu;
};

} // namespace qs

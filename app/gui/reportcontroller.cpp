#include "reportcontroller.h"

#include "core/error.h"
#include "document.h"
#include "report/reports.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>

namespace qs {
namespace {
struct KindInfo
{
    ReportController::Kind kind;
    const char* label;
    const char* suffix;
    const char* filter;
};
const KindInfo kKinds[] = {
    {ReportController::Kind::Html, "&HTML Report\u2026", "-report.html", "HTML (*.html)"},
    {ReportController::Kind::Csv, "&CSV Table\u2026", "-report.csv", "CSV (*.csv)"},
    {ReportController::Kind::PlanJson, "&Plan as JSON\u2026", "-plan.json", "JSON (*.json)"},
    {ReportController::Kind::LlamaTensorTypes, "&llama.cpp Tensor Types\u2026",
     "-tensor-types.txt", "Text (*.txt)"},
    {ReportController::Kind::OrtOverrides, "&ONNX Runtime TensorQuantOverrides\u2026",
     "-ort-overrides.json", "JSON (*.json)"},
};

QString notesOf(const ToolFile& f)
{
    QStringList lines;
    for (const auto& n : f.notes)
        lines << QString::fromStdString(n);
    if (!f.skipped.empty()) {
        lines << ReportController::tr("Left out (%n tensors):", nullptr, int(f.skipped.size()));
        for (const auto& s : f.skipped)
            lines << QStringLiteral("  %1: %2").arg(QString::fromStdString(s.name),
                                                   QString::fromStdString(s.reason));
    }
    return lines.join(QLatin1Char('\n'));
}
} // namespace

ReportController::ReportController(Document* document, QMainWindow* window)
    : QObject(window), m_document(document), m_window(window),
      m_menu(new QMenu(tr("Export &Report"), window))
{
    m_menu->setObjectName(QStringLiteral("reportMenu"));
    for (const auto& k : kKinds)
        m_menu->addAction(tr(k.label), this, [this, kind = k.kind] { choose(kind); });
    m_menu->setEnabled(false);
    connect(document, &Document::modelOpened, m_menu, [this] { m_menu->setEnabled(true); });
}

void ReportController::choose(Kind kind)
{
    const KindInfo* info = nullptr;
    for (const auto& k : kKinds)
        if (k.kind == kind) info = &k;
    const QFileInfo model(m_document->path());
    const QString start = model.absolutePath() + QLatin1Char('/') + model.completeBaseName() +
                          QString::fromLatin1(info->suffix);
    const QString path = QFileDialog::getSaveFileName(m_window, tr("Export report"), start,
                                                      QString::fromLatin1(info->filter));
    if (!path.isEmpty()) write(kind, path);
}

QString ReportController::write(Kind kind, const QString& path)
{
    const Model* model = m_document->model();
    if (!model) return {};
    std::vector<TensorOutcome> outcomes;
    for (int row = 0; row < m_document->tensorCount(); ++row) {
        const auto r = m_document->result(row);
        if (!r && kind != Kind::PlanJson) {
            emit failed(tr("The report needs every tensor's result."),
                        tr("%1 is still being computed; export again when the progress bar "
                           "is done.")
                            .arg(QString::fromStdString(m_document->tensor(row).name)));
            return {};
        }
        if (r) outcomes.push_back(*r);
    }
    QString notes;
    try {
        std::string text;
        switch (kind) {
        case Kind::PlanJson:
            text = m_document->plan().toJson() + "\n";
            break;
        case Kind::Csv:
            text = csvReport(outcomes);
            break;
        case Kind::Html:
            text = htmlReport({m_document->path().toStdString(), model->format,
                               m_document->planName(m_document->activePlan()).toStdString(),
                               m_document->plan().toJson(),
                               QApplication::applicationVersion().toStdString(), outcomes});
            break;
        case Kind::LlamaTensorTypes: {
            const ToolFile f = llamaTensorTypes(outcomes, model->format);
            text = f.text;
            notes = notesOf(f);
            break;
        }
        case Kind::OrtOverrides: {
            const ToolFile f = ortTensorQuantOverrides(outcomes);
            text = f.text;
            notes = notesOf(f);
            break;
        }
        }
        writeReportFile(path.toStdString(), text);
    } catch (const Error& e) {
        emit failed(tr("The report could not be written."), QString::fromUtf8(e.what()));
        return {};
    }
    emit written(path, notes);
    return notes;
}

} // namespace qs

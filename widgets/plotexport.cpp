#include "plotexport.h"

#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QRegularExpression>
#include <QStandardPaths>

#include <qcustomplot.h>

namespace qs::plotexport {
namespace {
QString sanitize(QString name)
{
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9._-]+"));
    name.replace(unsafe, QStringLiteral("_"));
    return name.isEmpty() ? QStringLiteral("plot") : name;
}

QString& lastDirectory()
{
    static QString dir = QStandardPaths::writableLocation(QStandardPaths::PicturesLocation);
    return dir;
}

void exportWithDialog(QCustomPlot* plot, const QString& baseName, const QString& suffix)
{
    const QString filter = suffix == QLatin1String("pdf") ? QObject::tr("PDF documents (*.pdf)")
                                                          : QObject::tr("PNG images (*.png)");
    const QString proposed =
        QDir(lastDirectory()).filePath(sanitize(baseName) + QLatin1Char('.') + suffix);
    QString path = QFileDialog::getSaveFileName(plot, QObject::tr("Export plot"), proposed, filter);
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QLatin1Char('.') + suffix;
    lastDirectory() = QFileInfo(path).absolutePath();
    const bool ok = suffix == QLatin1String("pdf") ? savePdf(plot, path) : savePng(plot, path);
    if (!ok)
        QMessageBox::warning(
            plot, QObject::tr("Export failed"),
            QObject::tr("Could not write %1.").arg(QDir::toNativeSeparators(path)));
}
} // namespace

bool savePng(QCustomPlot* plot, const QString& path)
{
    return plot->savePng(path, 0, 0, 2.0);
}

bool savePdf(QCustomPlot* plot, const QString& path)
{
    return plot->savePdf(path, 0, 0, QCP::epNoCosmetic, QStringLiteral("QuantScope"));
}

void copyToClipboard(QCustomPlot* plot)
{
    QApplication::clipboard()->setPixmap(plot->toPixmap(0, 0, 2.0));
}

void installContextMenu(QCustomPlot* plot, std::function<QString()> suggestedName)
{
    plot->setContextMenuPolicy(Qt::CustomContextMenu);
    QObject::connect(plot, &QWidget::customContextMenuRequested, plot,
                     [plot, suggestedName = std::move(suggestedName)](const QPoint& pos) {
                         auto* menu = new QMenu(plot);
                         menu->setAttribute(Qt::WA_DeleteOnClose);
                         const QString name = suggestedName ? suggestedName() : QString();
                         menu->addAction(QObject::tr("Export as &PNG\u2026"), plot, [plot, name] {
                             exportWithDialog(plot, name, QStringLiteral("png"));
                         });
                         menu->addAction(QObject::tr("Export as P&DF\u2026"), plot, [plot, name] {
                             exportWithDialog(plot, name, QStringLiteral("pdf"));
                         });
                         menu->addSeparator();
                         menu->addAction(QObject::tr("&Copy to clipboard"), plot,
                                         [plot] { copyToClipboard(plot); });
                         menu->popup(plot->mapToGlobal(pos));
                     });
}

} // namespace qs::plotexport

#include "recentfiles.h"

#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

namespace qs {
namespace {
QString settingsKey()
{
    return QStringLiteral("recentFiles");
}
} // namespace

RecentFiles::RecentFiles(QMenu* menu, QObject* parent) : QObject(parent), m_menu(menu)
{
    // Files move or get deleted between sessions; the menu is rebuilt each time it opens.
    connect(menu, &QMenu::aboutToShow, this, &RecentFiles::rebuildMenu);
    rebuildMenu();
}

QStringList RecentFiles::paths() const
{
    QStringList existing;
    for (const QString& p : QSettings().value(settingsKey()).toStringList())
        if (QFileInfo(p).isFile() && !existing.contains(p)) existing << p;
    return existing.mid(0, kMaxEntries);
}

void RecentFiles::add(const QString& path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList list = paths();
    list.removeAll(absolute);
    list.prepend(absolute);
    save(list.mid(0, kMaxEntries));
    rebuildMenu();
}

void RecentFiles::save(const QStringList& paths)
{
    QSettings().setValue(settingsKey(), paths);
}

void RecentFiles::rebuildMenu()
{
    const QStringList list = paths();
    save(list); // prunes missing files from the settings too
    m_menu->clear();
    for (int i = 0; i < list.size(); ++i) {
        const QString& path = list[i];
        // The number is the keyboard accelerator; the tooltip shows the full path.
        QAction* a =
            m_menu->addAction(QStringLiteral("&%1  %2").arg(i + 1).arg(QFileInfo(path).fileName()));
        a->setToolTip(QDir::toNativeSeparators(path));
        a->setStatusTip(QDir::toNativeSeparators(path));
        connect(a, &QAction::triggered, this, [this, path] { emit openRequested(path); });
    }
    if (list.isEmpty()) m_menu->addAction(tr("No recent files"))->setEnabled(false);
    m_menu->setToolTipsVisible(true);
}

} // namespace qs

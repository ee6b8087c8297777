// The "Open Recent" list: kept in QSettings, newest first, missing files dropped.
#pragma once

#include <QObject>
#include <QStringList>

class QMenu;

namespace qs {

class RecentFiles : public QObject
{
    Q_OBJECT
public:
    static constexpr int kMaxEntries = 8;

    explicit RecentFiles(QMenu* menu, QObject* parent = nullptr);

    void add(const QString& path);
    QStringList paths() const; // existing files only

signals:
    void openRequested(const QString& path);

private:
    void save(const QStringList& paths);
    void rebuildMenu();

    QMenu* m_menu;
};

} // namespace qs

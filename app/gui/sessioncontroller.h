// Saving and opening sessions (.qscope): the model, every plan and their results, so that
// reopening is instant. Also autosaves unsaved work and offers it back after a crash.
//
// Autosaves live in autosaveDirectory(), one file per running window, each guarded by a lock
// file that the window holds while it runs: two windows never overwrite each other's work, and
// a file whose lock can be taken belongs to a run that ended (crashed, killed, or closed with
// unsaved edits). Those "orphans" are offered back; nothing deletes one unless the user
// recovers it (it becomes this run's autosave) or discards it.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <memory>

class QLockFile;

class QAction;
class QMainWindow;
class QMenu;

namespace qs {

class Document;

class SessionController : public QObject
{
    Q_OBJECT
public:
    SessionController(Document* document, QMainWindow* window);
    ~SessionController() override;

    void addActions(QMenu* fileMenu);
    QAction* saveAction() const { return m_save; }
    QAction* recoverAction() const { return m_recover; }

    // Reads the session and opens its model in the background; emits opened or failed.
    void open(const QString& path);
    bool save(const QString& path); // false (after emitting failed) when it cannot be written
    void saveOrAsk();
    void saveAs();
    QString path() const { return m_path; }
    static QString autosaveDirectory();
    QString autosavePath() const { return m_autosavePath; } // this run's
    void autosave();
    // Autosaves of runs that ended with unsaved work, newest first.
    QStringList orphanedAutosaves() const;
    void recover(const QString& autosave); // opens it; it becomes this run's autosave
    void discard(const QString& autosave);
    // Edits (or recovered work) that no session file holds yet.
    bool hasUnsavedWork() const;
    // On closing the window: unsaved work is autosaved (and offered at the next start),
    // otherwise this run's autosave is removed.
    void closing();

signals:
    void opened(const QString& path);
    void saved(const QString& path);
    void warning(const QString& text);
    void failed(const QString& text, const QString& details);
    void orphansChanged();

private:
    Document* m_document;
    QMainWindow* m_window;
    QAction* m_save = nullptr;
    QAction* m_saveAs = nullptr;
    QAction* m_recover = nullptr;
    QString m_path;
    QTimer m_autosave;
    QString m_autosavePath;
    std::unique_ptr<QLockFile> m_lock;
    bool m_recovered = false; // the document holds recovered work not saved to a session
    void keepAsOrphan();
    int m_savedIndex = 0; // the undo stack's index at the last save
    quint64 m_openId = 0;
};

} // namespace qs

// Saving and opening sessions (.qscope): the model, every plan and their results, so that
// reopening is instant. Also autosaves unsaved work and offers it back after a crash.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>

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

    void addActions(QMenu* fileMenu);
    QAction* saveAction() const { return m_save; }
    QAction* recoverAction() const { return m_recover; }

    // Reads the session and opens its model in the background; emits opened or failed.
    void open(const QString& path);
    bool save(const QString& path); // false (after emitting failed) when it cannot be written
    void saveOrAsk();
    void saveAs();
    QString path() const { return m_path; }
    static QString autosavePath();
    void autosave();
    void removeAutosave(); // on a clean exit: nothing to recover

signals:
    void opened(const QString& path);
    void saved(const QString& path);
    void warning(const QString& text);
    void failed(const QString& text, const QString& details);

private:
    Document* m_document;
    QMainWindow* m_window;
    QAction* m_save = nullptr;
    QAction* m_saveAs = nullptr;
    QAction* m_recover = nullptr;
    QString m_path;
    QTimer m_autosave;
    int m_savedIndex = 0; // the undo stack's index at the last save
    quint64 m_openId = 0;
};

} // namespace qs

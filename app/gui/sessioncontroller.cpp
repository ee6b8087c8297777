#include "sessioncontroller.h"

#include "core/error.h"
#include "document.h"
#include "sessionio.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QLockFile>
#include <QSettings>
#include <QUuid>
#include <QMainWindow>
#include <QMenu>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {

SessionController::SessionController(Document* document, QMainWindow* window)
    : QObject(window), m_document(document), m_window(window)
{
    QDir().mkpath(autosaveDirectory());
    const QString id = QUuid::createUuid().toString(QUuid::WithoutBraces);
    m_autosavePath = autosaveDirectory() + QLatin1Char('/') + id + QStringLiteral(".qscope");
    m_lock = std::make_unique<QLockFile>(m_autosavePath + QStringLiteral(".lock"));
    m_lock->setStaleLockTime(0); // a lock is stale only when its process is gone
    m_lock->tryLock(0);
    const int seconds =
        std::max(1, QSettings().value(QStringLiteral("session/autosaveSeconds"), 60).toInt());
    m_autosave.setInterval(seconds * 1000);
    connect(&m_autosave, &QTimer::timeout, this, &SessionController::autosave);
    m_autosave.start();
    // Work on the previous model is kept, not dropped, when another model or session replaces it.
    connect(m_document, &Document::modelAboutToChange, this, &SessionController::keepAsOrphan);
    // A freshly opened model or session has nothing unsaved yet.
    connect(m_document, &Document::modelOpened, this,
            [this] { m_savedIndex = m_document->undoStack()->index(); });
}

SessionController::~SessionController() = default;

void SessionController::addActions(QMenu* file)
{
    m_save = file->addAction(tr("&Save Session"), this, &SessionController::saveOrAsk);
    m_save->setShortcut(QKeySequence::Save);
    m_save->setObjectName(QStringLiteral("saveSessionAction"));
    m_save->setToolTip(tr("Save the model's path, every plan and their results as a .qscope "
                          "session that reopens instantly"));
    m_save->setEnabled(false);
    m_saveAs = file->addAction(tr("Save Session &As\u2026"), this, &SessionController::saveAs);
    m_saveAs->setShortcut(QKeySequence::SaveAs);
    m_saveAs->setEnabled(false);
    m_recover = file->addAction(tr("Re&cover Unsaved Work"), this, [this] {
        const QStringList orphans = orphanedAutosaves();
        if (!orphans.isEmpty()) recover(orphans.constFirst());
    });
    m_recover->setObjectName(QStringLiteral("recoverAction"));
    m_recover->setToolTip(tr("Open the most recent work that an earlier run autosaved but "
                             "never saved to a session"));
    m_recover->setEnabled(!orphanedAutosaves().isEmpty());
    connect(this, &SessionController::orphansChanged, m_recover,
            [this] { m_recover->setEnabled(!orphanedAutosaves().isEmpty()); });
    connect(m_document, &Document::modelOpened, this, [this] {
        m_save->setEnabled(true);
        m_saveAs->setEnabled(true);
    });
}

QString SessionController::autosaveDirectory()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/autosave");
}

QStringList SessionController::orphanedAutosaves() const
{
    QStringList out;
    const QFileInfoList files = QDir(autosaveDirectory())
                                    .entryInfoList({QStringLiteral("*.qscope")}, QDir::Files,
                                                   QDir::Time);
    for (const QFileInfo& f : files) {
        const QString path = f.absoluteFilePath();
        if (path == m_autosavePath) continue;
        // Free only when no running window holds it (QLockFile checks the owner's pid).
        QLockFile lock(path + QStringLiteral(".lock"));
        lock.setStaleLockTime(0);
        if (!lock.tryLock(0)) continue;
        lock.unlock();
        out << path;
    }
    return out;
}

void SessionController::recover(const QString& autosave)
{
    open(autosave);
}

void SessionController::discard(const QString& autosave)
{
    if (autosave == m_autosavePath || !orphanedAutosaves().contains(autosave)) return;
    QFile::remove(autosave);
    emit orphansChanged();
}

bool SessionController::hasUnsavedWork() const
{
    return m_document->model() &&
           (m_recovered || m_document->undoStack()->index() != m_savedIndex);
}

void SessionController::keepAsOrphan()
{
    if (!hasUnsavedWork()) {
        QFile::remove(m_autosavePath);
        return;
    }
    autosave();
    // Under a name of its own and without a lock: the next start (or Recover) offers it.
    const QString kept = autosaveDirectory() + QLatin1Char('/') +
                         QUuid::createUuid().toString(QUuid::WithoutBraces) +
                         QStringLiteral(".qscope");
    if (QFile::rename(m_autosavePath, kept)) emit orphansChanged();
    m_recovered = false;
}

void SessionController::closing()
{
    if (hasUnsavedWork())
        autosave();
    else
        QFile::remove(m_autosavePath);
    m_lock.reset(); // unlocks: from now on the file is an orphan for the next run
}

void SessionController::open(const QString& path)
{
    Session session;
    try {
        session = loadSession(path.toStdString());
    } catch (const Error& e) {
        emit failed(tr("Could not open the session %1.").arg(QFileInfo(path).fileName()),
                    QString::fromUtf8(e.what()));
        return;
    }
    const auto check = checkFingerprint(session);
    const QString modelPath = QString::fromStdString(session.modelPath);
    if (check == FingerprintCheck::Missing) {
        emit failed(tr("The session's model is missing."),
                    tr("%1 needs %2, which cannot be read.").arg(path, modelPath));
        return;
    }
    const bool changed = check == FingerprintCheck::Changed;
    if (changed)
        emit warning(tr("%1 changed on disk since the session was saved: its results are "
                        "computed again.")
                         .arg(QFileInfo(modelPath).fileName()));
    const quint64 id = ++m_openId;
    auto* watcher = new QFutureWatcher<std::shared_ptr<const Model>>(this);
    auto error = std::make_shared<QString>();
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher, error, session, path, modelPath, changed, id] {
                watcher->deleteLater();
                if (id != m_openId) return;
                try {
                    if (!error->isEmpty()) throw Error(error->toStdString());
                    const auto model = watcher->result();
                    auto plans = restoredPlans(session, *model, path.toStdString(), !changed);
                    int active = 0;
                    for (std::size_t i = 0; i < session.plans.size(); ++i)
                        if (session.plans[i].name == session.activePlan) active = int(i);
                    m_document->restore(model, modelPath, std::move(plans), active);
                } catch (const Error& e) {
                    emit failed(tr("Could not open the session %1.").arg(QFileInfo(path).fileName()),
                                QString::fromUtf8(e.what()));
                    return;
                }
                m_savedIndex = m_document->undoStack()->index();
                m_path = path;
                if (QFileInfo(path).absolutePath() == QDir(autosaveDirectory()).absolutePath()) {
                    // A recovered autosave: this run's autosave from now on, and not the
                    // file that Save writes to.
                    m_path.clear();
                    m_recovered = true;
                    QFile::remove(m_autosavePath);
                    QFile::rename(path, m_autosavePath);
                    emit orphansChanged();
                }
                emit opened(path);
            });
    watcher->setFuture(QtConcurrent::run([modelPath, error]() -> std::shared_ptr<const Model> {
        try {
            return openModel(modelPath.toStdString());
        } catch (const std::exception& e) {
            *error = QString::fromUtf8(e.what());
            return nullptr;
        }
    }));
}

bool SessionController::save(const QString& path)
{
    try {
        saveSession(path.toStdString(),
                    sessionOf(*m_document, QApplication::applicationVersion().toStdString()));
    } catch (const Error& e) {
        emit failed(tr("Could not save the session."), QString::fromUtf8(e.what()));
        return false;
    }
    m_path = path;
    m_savedIndex = m_document->undoStack()->index();
    m_recovered = false;
    QFile::remove(m_autosavePath); // the session file holds the work now
    emit saved(path);
    return true;
}

void SessionController::saveOrAsk()
{
    if (m_path.isEmpty())
        saveAs();
    else
        save(m_path);
}

void SessionController::saveAs()
{
    const QFileInfo model(m_document->path());
    const QString start = m_path.isEmpty()
                              ? model.absolutePath() + QLatin1Char('/') + model.completeBaseName() +
                                    QStringLiteral(".qscope")
                              : m_path;
    QString path = QFileDialog::getSaveFileName(m_window, tr("Save session"), start,
                                                tr("QuantScope sessions (*.qscope)"));
    if (path.isEmpty()) return;
    if (!path.endsWith(QStringLiteral(".qscope"))) path += QStringLiteral(".qscope");
    save(path);
}

void SessionController::autosave()
{
    // Only work that is not saved anywhere: an opened model with edits since the last save.
    if (!hasUnsavedWork()) return;
    QDir().mkpath(autosaveDirectory());
    try {
        saveSession(autosavePath().toStdString(),
                    sessionOf(*m_document, QApplication::applicationVersion().toStdString()));
    } catch (const Error&) {
        return; // a failed autosave must not interrupt; the next one tries again
    }
}


} // namespace qs

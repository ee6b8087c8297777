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
#include <QMainWindow>
#include <QMenu>
#include <QStandardPaths>
#include <QUndoStack>
#include <QtConcurrent/QtConcurrentRun>

namespace qs {

SessionController::SessionController(Document* document, QMainWindow* window)
    : QObject(window), m_document(document), m_window(window)
{
    m_autosave.setInterval(60 * 1000);
    connect(&m_autosave, &QTimer::timeout, this, &SessionController::autosave);
    m_autosave.start();
}

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
    m_recover = file->addAction(tr("Re&cover Autosaved Session"), this,
                                [this] { open(autosavePath()); });
    m_recover->setObjectName(QStringLiteral("recoverAction"));
    m_recover->setEnabled(QFileInfo::exists(autosavePath()));
    connect(m_document, &Document::modelOpened, this, [this] {
        m_save->setEnabled(true);
        m_saveAs->setEnabled(true);
    });
}

QString SessionController::autosavePath()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           QStringLiteral("/autosave.qscope");
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
                // The autosave is a copy to recover, not the file to save to.
                m_path = path == autosavePath() ? QString() : path;
                m_savedIndex = m_document->undoStack()->index();
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
    if (!m_document->model() || m_document->undoStack()->index() == m_savedIndex) return;
    QDir().mkpath(QFileInfo(autosavePath()).absolutePath());
    try {
        saveSession(autosavePath().toStdString(),
                    sessionOf(*m_document, QApplication::applicationVersion().toStdString()));
    } catch (const Error&) {
        return; // a failed autosave must not interrupt; the next one tries again
    }
    if (m_recover) m_recover->setEnabled(true);
}

void SessionController::removeAutosave()
{
    QFile::remove(autosavePath());
}

} // namespace qs

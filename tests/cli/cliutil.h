// Running quantscope-cli as a user does, shared by the command-line test suites.
#pragma once

#include <QDebug>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

namespace clitest {

struct Run
{
    int code = -1; // -1 when the program crashed or timed out
    QByteArray out, err;
};

inline Run runCli(const QStringList& args, int timeoutMs = 120000)
{
    QProcess p;
    p.start(QStringLiteral(QS_CLI), args);
    if (!p.waitForFinished(timeoutMs)) p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
            p.readAllStandardError()};
}

// The JSON object on standard output; says what is wrong (and what stderr said) when it is not.
inline QJsonObject json(const Run& r)
{
    QJsonParseError e;
    const auto doc = QJsonDocument::fromJson(r.out, &e);
    if (e.error != QJsonParseError::NoError)
        qWarning() << "bad JSON:" << e.errorString() << r.out.left(300) << r.err.left(300);
    return doc.object();
}

} // namespace clitest

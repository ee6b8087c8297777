// quantscope-cli quantize --save-session and report: files a user gets, checked against
// quantize --json.
#include "cliutil.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>

namespace {
using namespace clitest;

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

// RFC 4180 records of a CSV file.
QList<QStringList> parseCsv(const QString& text)
{
    QList<QStringList> rows{{}};
    QString field;
    bool quoted = false;
    for (qsizetype i = 0; i < text.size(); ++i) {
        const QChar c = text[i];
        if (quoted) {
            if (c == u'"' && i + 1 < text.size() && text[i + 1] == u'"') {
                field += u'"';
                ++i;
            } else if (c == u'"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == u'"') {
            quoted = true;
        } else if (c == u',') {
            rows.back() << field;
            field.clear();
        } else if (c == u'\r' && i + 1 < text.size() && text[i + 1] == u'\n') {
            rows.back() << field;
            field.clear();
            rows.append(QStringList{});
            ++i;
        } else {
            field += c;
        }
    }
    if (rows.back().isEmpty()) rows.removeLast();
    return rows;
}

const QString kExample = QStringLiteral(QS_EXAMPLE_MODEL);

} // namespace

class TestCliReport : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString tmp(const QString& name) const { return m_dir.filePath(name); }
    QString m_session;
    QJsonArray m_tensors; // quantize --json's rows for the session's plan

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        writeFile(tmp(QStringLiteral("plan.json")),
                  R"({"default": {"format": "int8", "granularity": "channel"},)"
                  R"( "rules": [{"match": "mlp", "format": "uint4", "granularity": "group:32"},)"
                  R"( {"match": "attn", "format": "q8_0"}]})");
        m_session = tmp(QStringLiteral("s.qscope"));
        const Run r = runCli({QStringLiteral("quantize"), kExample, QStringLiteral("--plan"),
                              tmp(QStringLiteral("plan.json")), QStringLiteral("--json"),
                              QStringLiteral("--save-session"), m_session});
        QVERIFY2(r.code == 0, r.err.constData());
        m_tensors =
            QJsonDocument::fromJson(r.out).object().value(QStringLiteral("tensors")).toArray();
        QVERIFY(!m_tensors.isEmpty());
        QVERIFY(QFile::exists(m_session));
        QVERIFY(!QFile::exists(m_session + QStringLiteral(".part")));
    }

    // Every CSV column holds quantize --json's value for the same tensor (numbers bit-exact).
    void csvMatchesQuantizeJson()
    {
        const QString csv = tmp(QStringLiteral("s.csv"));
        const Run r = runCli({QStringLiteral("report"), m_session, QStringLiteral("--csv"), csv});
        QVERIFY2(r.code == 0, r.err.constData());
        const auto rows = parseCsv(QString::fromUtf8(readFile(csv)));
        QCOMPARE(rows.size(), m_tensors.size() + 1);
        const QStringList header = rows.front();
        QCOMPARE(
            header.join(u','),
            QStringLiteral("name,format,granularity,channel_axis,params,bytes_before,"
                           "bytes_after,bits_per_weight,mse,rmse,sqnr_db,max_abs_error,cosine"));
        int withMetrics = 0;
        for (qsizetype i = 0; i < m_tensors.size(); ++i) {
            const QJsonObject t = m_tensors[i].toObject();
            const QStringList& cells = rows[i + 1];
            QCOMPARE(cells.size(), header.size());
            for (qsizetype c = 0; c < header.size(); ++c) {
                const QJsonValue v = t.value(header[c]);
                const QString& cell = cells[c];
                if (v.isNull()) {
                    QVERIFY2(cell.isEmpty(), qPrintable(header[c] + QStringLiteral(": ") + cell));
                } else if (v.isString()) {
                    QCOMPARE(cell, v.toString());
                } else {
                    bool ok = false;
                    const double d = cell.toDouble(&ok);
                    QVERIFY2(ok, qPrintable(header[c] + QStringLiteral(": ") + cell));
                    QCOMPARE(d, v.toDouble());
                }
            }
            withMetrics += t.value(QStringLiteral("mse")).isDouble();
        }
        QVERIFY(withMetrics > 0);
    }

    // A report straight from the model computes what the session stored.
    void modelAndSessionAgree()
    {
        const QString fromSession = tmp(QStringLiteral("a.csv")),
                      fromModel = tmp(QStringLiteral("b.csv"));
        QCOMPARE(runCli({QStringLiteral("report"), m_session, QStringLiteral("--csv"), fromSession})
                     .code,
                 0);
        const Run r =
            runCli({QStringLiteral("report"), kExample, QStringLiteral("--plan"),
                    tmp(QStringLiteral("plan.json")), QStringLiteral("--csv"), fromModel});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(readFile(fromModel), readFile(fromSession));
    }

    void otherFiles()
    {
        const QString html = tmp(QStringLiteral("r.html")), llama = tmp(QStringLiteral("t.txt")),
                      ort = tmp(QStringLiteral("o.json")), plan = tmp(QStringLiteral("p.json"));
        const Run r =
            runCli({QStringLiteral("report"), m_session, QStringLiteral("--html"), html,
                    QStringLiteral("--llama-tensor-types"), llama,
                    QStringLiteral("--ort-overrides"), ort, QStringLiteral("--plan-json"), plan});
        QVERIFY2(r.code == 0, r.err.constData());
        const QString page = QString::fromUtf8(readFile(html));
        QVERIFY(page.contains(QStringLiteral("<svg ")));
        QVERIFY(page.contains(QStringLiteral("<table")));
        for (const char* external : {"<script", "http:", "https:", "src=", "<link"})
            QVERIFY2(!page.contains(QLatin1String(external)), external);
        // The int8 and uint4 tensors have no llama.cpp type and are named on stderr; the q8_0
        // ones are in the file; the caveat about names of a safetensors source is printed.
        const QString types = QString::fromUtf8(readFile(llama));
        const QString err = QString::fromUtf8(r.err);
        int q8 = 0, int8 = 0;
        for (const auto& v : m_tensors) {
            const QString f = v.toObject().value(QStringLiteral("format")).toString();
            q8 += f == QStringLiteral("q8_0");
            int8 += f == QStringLiteral("int8");
        }
        QVERIFY(q8 > 0 && int8 > 0);
        QCOMPARE(types.count(QStringLiteral("=q8_0\n")), q8);
        int skipped = 0; // quantized to a format llama.cpp has no type for
        for (const auto& v : m_tensors) {
            const QString f = v.toObject().value(QStringLiteral("format")).toString();
            skipped += f != QStringLiteral("keep") && f != QStringLiteral("q8_0");
        }
        QCOMPARE(err.count(QStringLiteral("llama tensor types: left out")), skipped);
        QVERIFY(err.contains(QStringLiteral("renames tensors")));
        // ONNX Runtime: the per-channel int8 tensors, with their axis; grouped ones left out.
        const QJsonObject o = QJsonDocument::fromJson(readFile(ort)).object();
        QCOMPARE(o.size(), int8);
        for (const auto& v : o)
            QCOMPARE(v.toArray().first().toObject().value(QStringLiteral("quant_type")).toString(),
                     QStringLiteral("QInt8"));
        QVERIFY(err.contains(QStringLiteral("TensorQuantOverrides has no block size")));
        const QJsonObject p = QJsonDocument::fromJson(readFile(plan)).object();
        QCOMPARE(p.value(QStringLiteral("default"))
                     .toObject()
                     .value(QStringLiteral("format"))
                     .toString(),
                 QStringLiteral("int8"));
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("stderrHas");
        const QString out = tmp(QStringLiteral("x.csv"));
        writeFile(tmp(QStringLiteral("garbage.qscope")), "not a session at all");
        QTest::addRow("no output")
            << QStringList{QStringLiteral("report"), m_session} << 2 << "at least one of --html";
        QTest::addRow("unknown plan") << QStringList{QStringLiteral("report"), m_session,
                                                     QStringLiteral("--plan"), QStringLiteral("B"),
                                                     QStringLiteral("--csv"),  out}
                                      << 3 << "no plan named 'B' (its plans: A)";
        QTest::addRow("format with a session")
            << QStringList{QStringLiteral("report"),   m_session,
                           QStringLiteral("--format"), QStringLiteral("int8"),
                           QStringLiteral("--csv"),    out}
            << 2 << "--format goes with a MODEL";
        QTest::addRow("garbage session")
            << QStringList{QStringLiteral("report"), tmp(QStringLiteral("garbage.qscope")),
                           QStringLiteral("--csv"), out}
            << 3 << "garbage.qscope: not an HDF5 file";
        QTest::addRow("missing session")
            << QStringList{QStringLiteral("report"), tmp(QStringLiteral("none.qscope")),
                           QStringLiteral("--csv"), out}
            << 3 << "none.qscope";
        QTest::addRow("unwritable session")
            << QStringList{QStringLiteral("quantize"),       kExample,
                           QStringLiteral("--format"),       QStringLiteral("int8"),
                           QStringLiteral("--save-session"), tmp(QStringLiteral("no/dir/s.qscope"))}
            << 3 << "no/dir/s.qscope";
    }
    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, stderrHas);
        const Run r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(stderrHas), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line, whatever went wrong
    }

    // The session remembers the model's fingerprint: a changed model earns a warning, and the
    // report still shows the saved results.
    void changedModelWarns()
    {
        const QString model = tmp(QStringLiteral("copy.safetensors"));
        QVERIFY(QFile::copy(kExample, model));
        const QString s = tmp(QStringLiteral("copy.qscope"));
        QCOMPARE(runCli({QStringLiteral("quantize"), model, QStringLiteral("--format"),
                         QStringLiteral("int8"), QStringLiteral("--save-session"), s})
                     .code,
                 0);
        QByteArray bytes = readFile(model);
        bytes[bytes.size() - 1] = static_cast<char>(bytes[bytes.size() - 1] ^ 0x40);
        writeFile(model, bytes);
        const Run r = runCli({QStringLiteral("report"), s, QStringLiteral("--csv"),
                              tmp(QStringLiteral("copy.csv"))});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.err.contains("changed since the session was saved"), r.err.constData());
    }
};

QTEST_GUILESS_MAIN(TestCliReport)
#include "tst_cli_report.moc"

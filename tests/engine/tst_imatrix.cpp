// llama.cpp importance matrices: both layouts parsed and normalised, malformed files refused.
#include "alloc/imatrix.h"
#include "core/error.h"
#include "testutil.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using namespace qs;
using namespace qs::alloc;

namespace {

const std::string kDir = std::string(QS_TEST_DATA) + "/imatrix/";

QJsonObject expected()
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(test::readAll(kDir + "expected.json")))
        .object();
}

// The reader's values must be exactly NumPy's float32 normalisation.
void compareEntries(const Imatrix& im, const QJsonObject& want)
{
    QCOMPARE(im.entries.size(), static_cast<std::size_t>(want.size()));
    for (auto it = want.begin(); it != want.end(); ++it) {
        const ImatrixEntry* e = im.find(it.key().toStdString());
        QVERIFY2(e, qPrintable(it.key()));
        const auto o = it.value().toObject();
        QCOMPARE(e->matrices, o.value(QStringLiteral("matrices")).toInteger());
        const auto values = o.value(QStringLiteral("values")).toArray();
        QCOMPARE(e->values.size(), static_cast<std::size_t>(values.size()));
        for (qsizetype i = 0; i < values.size(); ++i)
            QCOMPARE(e->values[static_cast<std::size_t>(i)],
                     static_cast<float>(values[i].toDouble()));
    }
}

std::string le32(std::int32_t v)
{
    std::string s(4, '\0');
    std::memcpy(s.data(), &v, 4);
    return s;
}

void expectError(const std::string& bytes, const char* message, const QTemporaryDir& dir)
{
    const std::string path = dir.filePath(QStringLiteral("bad.dat")).toStdString();
    test::writeFile(path, bytes);
    try {
        readImatrix(path);
        QFAIL(qPrintable(QStringLiteral("accepted: ") + QString::fromUtf8(message)));
    } catch (const Error& e) {
        const QString what = QString::fromUtf8(e.what());
        QVERIFY2(what.startsWith(QString::fromStdString(path) + QStringLiteral(": ")), qPrintable(what));
        QVERIFY2(what.contains(QString::fromUtf8(message)), qPrintable(what));
    }
}

} // namespace

class TestImatrix : public QObject
{
    Q_OBJECT
private slots:
    void legacyFile()
    {
        const Imatrix im = readImatrix(kDir + "small.dat");
        QCOMPARE(im.format, std::string("dat"));
        const auto want = expected();
        compareEntries(im, want.value(QStringLiteral("legacy")).toObject());
        QCOMPARE(im.chunks, want.value(QStringLiteral("chunks")).toInteger());
        QCOMPARE(im.datasets, std::vector<std::string>{want.value(QStringLiteral("dataset")).toString().toStdString()});
    }

    void legacyFileWithoutTrailer()
    {
        const Imatrix im = readImatrix(kDir + "no_trailer.dat");
        QCOMPARE(im.entries.size(), std::size_t{1});
        QCOMPARE(im.chunks, std::int64_t{0});
        QVERIFY(im.datasets.empty());
    }

    void ggufFile()
    {
        const Imatrix im = readImatrix(kDir + "small.gguf");
        QCOMPARE(im.format, std::string("gguf"));
        const auto want = expected();
        compareEntries(im, want.value(QStringLiteral("gguf")).toObject());
        QCOMPARE(im.chunks, want.value(QStringLiteral("chunks")).toInteger());
    }

    void malformedGguf_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        QTest::addRow("sums without counts")
            << QStringLiteral("missing_counts.gguf") << QStringLiteral("has no matching");
        QTest::addRow("counts of the wrong length")
            << QStringLiteral("counts_mismatch.gguf") << QStringLiteral("values for 1 matrices");
    }
    void malformedGguf()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        try {
            readImatrix(kDir + file.toStdString());
            QFAIL("a malformed imatrix was accepted");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        }
    }

    void ggufModelIsNotAnImatrix()
    {
        // A GGUF file whose tensors are weights, not sums: refused rather than read as empty.
        const std::string model = std::string(QS_TEST_DATA) + "/gguf/";
        QDir dir(QString::fromStdString(model));
        const auto files = dir.entryList({QStringLiteral("*.gguf")}, QDir::Files, QDir::Name);
        QVERIFY(!files.isEmpty());
        QVERIFY_THROWS_EXCEPTION(Error, readImatrix(model + files.front().toStdString()));
    }

    void truncatedLegacyFilesRefused()
    {
        // Every cut through the file lands in some field; each must be named, none may crash.
        QTemporaryDir dir;
        const std::string good = test::readAll(kDir + "small.dat");
        const std::string oneEntry = test::readAll(kDir + "no_trailer.dat");
        for (std::size_t n = 0; n < oneEntry.size(); ++n)
            expectError(oneEntry.substr(0, n), "truncated", dir);
        // Inside the trailer: the chunk count, the dataset name length, the dataset name.
        expectError(good.substr(0, good.size() - 3), "truncated in the dataset name", dir);
    }

    void malformedLegacyFiles_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("message");
        const std::string name = "w";
        const auto entry = [&](std::int32_t len, std::int32_t ncall, std::int32_t nval, float v) {
            return le32(len) + name + le32(ncall) + le32(nval) +
                   std::string(reinterpret_cast<const char*>(&v), 4);
        };
        const auto row = [](const char* tag, const std::string& b, const char* msg) {
            QTest::addRow("%s", tag) << QByteArray::fromStdString(b) << QString::fromUtf8(msg);
        };
        row("no entries", le32(0), "entry count 0 is not positive");
        row("negative entry count", le32(-3), "is not positive");
        row("zero name length", le32(1) + le32(0), "name length 0");
        row("negative call count", le32(1) + entry(1, -1, 1, 1.0f), "negative call count");
        row("zero values", le32(1) + le32(1) + name + le32(1) + le32(0), "value count 0");
        row("huge value count", le32(1) + le32(1) + name + le32(1) + le32(0x7fffffff),
            "truncated in the values of 'w'");
        row("negative value", le32(1) + entry(1, 1, 1, -2.0f), "negative or not finite");
        row("NaN value", le32(1) + entry(1, 1, 1, std::nanf("")), "negative or not finite");
        row("repeated entry", le32(2) + entry(1, 1, 1, 1.0f) + entry(1, 1, 1, 1.0f),
            "appears twice");
        row("negative dataset length", le32(1) + entry(1, 1, 1, 1.0f) + le32(5) + le32(-1),
            "dataset name length -1 is negative");
        row("bytes after the dataset", le32(1) + entry(1, 1, 1, 1.0f) + le32(5) + le32(1) + "ab",
            "1 unexpected bytes");
    }
    void malformedLegacyFiles()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        QTemporaryDir dir;
        expectError(bytes.toStdString(), message.toUtf8().constData(), dir);
    }

    void columnWeights()
    {
        const Imatrix im = readImatrix(kDir + "small.gguf");
        const std::string q = "model.layers.0.self_attn.q_proj.weight";
        const ImatrixEntry* e = im.find(q);
        QVERIFY(e);
        // Row-major [out, in]: element (r, c) takes column c's weight.
        const ColumnWeights w(e, test::f32Info(q, {5, 96}), 1.0);
        QCOMPARE(w.at(3 * 96 + 17), static_cast<double>(e->values[17]));
        QVERIFY_THROWS_EXCEPTION(Error, ColumnWeights(e, test::f32Info(q, {96, 5}), 1.0));
        // A merged expert tensor [experts, rows, columns]: each expert its own matrix.
        const std::string moe = "blk.0.ffn_up_exps.weight";
        const ImatrixEntry* m = im.find(moe);
        QVERIFY(m);
        const ColumnWeights x(m, test::f32Info(moe, {3, 4, 8}), 1.0);
        QCOMPARE(x.at(2 * 32 + 1 * 8 + 5), static_cast<double>(m->values[2 * 8 + 5]));
        QCOMPARE(x.at(1 * 32 + 3), 1.0); // expert 1 saw no tokens: weight 1
        QVERIFY_THROWS_EXCEPTION(Error, ColumnWeights(m, test::f32Info(moe, {2, 4, 8}), 1.0));
        // Without an entry: the uniform weight.
        const ColumnWeights u(nullptr, test::f32Info("other", {4, 4}), 0.25);
        QVERIFY(u.uniform());
        QCOMPARE(u.at(7), 0.25);
    }
};

QTEST_APPLESS_MAIN(TestImatrix)
#include "tst_imatrix.moc"

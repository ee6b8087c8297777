// The IDX reader on tiny files tests/data/make_nn_fixtures.py wrote: plain and gzip files give
// the same arrays, datasets resolve from a directory, and every malformed file is an error
// naming the file and the problem.
#include "data/idx.h"
#include "nntestutil.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>

#include <sys/resource.h>

using namespace qs;
using namespace qs::data;

class TestIdx : public QObject
{
    Q_OBJECT

private:
    static std::string idx(const std::string& name) { return test::nnFixture("idx/" + name); }

private slots:
    void plainAndGzipAgree_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addRow("plain") << "images.idx";
        QTest::addRow("gzip") << "images.idx.gz";
    }
    void plainAndGzipAgree()
    {
        QFETCH(QString, file);
        const auto expected =
            nlohmann::json::parse(test::readAll(test::nnFixture("nn_fixtures.json")))["idx"];
        const IdxArray a = readIdx(idx(file.toStdString()));
        QCOMPARE(a.dims, expected["shape"].get<std::vector<std::int64_t>>());
        const auto values = expected["images"].get<std::vector<int>>();
        QCOMPARE(std::vector<int>(a.values.begin(), a.values.end()), values);
    }

    void parseMatchesFileReader()
    {
        const std::string bytes = test::readAll(idx("labels.idx"));
        const IdxArray a = parseIdx(std::as_bytes(std::span(bytes.data(), bytes.size())), "mem");
        QCOMPARE(a.values, readIdx(idx("labels.idx.gz")).values);
    }

    void malformed_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("message");
        QTest::addRow("bad magic") << "bad_magic.idx" << "not an IDX file";
        QTest::addRow("unsupported type") << "bad_type.idx" << "element type 0x0d";
        QTest::addRow("no dimensions") << "no_dims.idx" << "dimension count 0";
        QTest::addRow("too many dimensions") << "too_many_dims.idx" << "dimension count 9";
        QTest::addRow("short header") << "short_header.idx" << "truncated IDX header";
        QTest::addRow("truncated data") << "truncated.idx" << "truncated IDX data";
        QTest::addRow("truncated gzip payload") << "truncated.idx.gz" << "truncated IDX data";
        QTest::addRow("cut gzip stream") << "cut.idx.gz" << "truncated IDX data";
        QTest::addRow("trailing bytes") << "trailing.idx" << "unexpected bytes";
        QTest::addRow("absurd sizes") << "absurd.idx" << "declares more than";
        QTest::addRow("missing file") << "nothing-here.idx" << "cannot open";
    }
    void malformed()
    {
        QFETCH(QString, file);
        QFETCH(QString, message);
        const std::string path = idx(file.toStdString());
        test::expectError([&] { readIdx(path); }, {path + ": ", message.toStdString()});
    }

    void malformedBytes()
    {
        // parseIdx validates in-memory bytes with the same rules.
        const std::string bytes = test::readAll(idx("truncated.idx"));
        test::expectError(
            [&] { parseIdx(std::as_bytes(std::span(bytes.data(), bytes.size())), "buf"); },
            {"buf: truncated IDX data", "declares 60 bytes"});
    }

    void limitIsEnforcedBeforeAllocation()
    {
        test::expectError([&] { readIdx(idx("images.idx"), 59); }, {"declares more than 59"});
    }

    void shortFileDeclaringTheLimitAllocatesLittle()
    {
        // Found by fuzzing (tests/fuzz/corpus/idx/declares-1gib): a 20-byte file whose header
        // declares 1024 x 1024 x 1024 bytes, exactly the default limit, made readIdx allocate
        // and zero 1 GiB before it found the data missing. The buffer now grows as data arrives.
        QTemporaryDir dir;
        const std::string path = dir.filePath("short.idx").toStdString();
        test::writeFile(path, std::string("\0\0\x08\x03\0\0\x04\0\0\0\x04\0\0\0\x04\0abcd", 20));
        test::expectError([&] { readIdx(path); },
                          {path + ": truncated IDX data", "declares 1073741824 bytes",
                           "the file holds 4"});
        rusage usage{};
        QCOMPARE(getrusage(RUSAGE_SELF, &usage), 0);
        QVERIFY2(usage.ru_maxrss < 512 * 1024, // KiB
                 qPrintable(QString("peak RSS %1 KiB").arg(usage.ru_maxrss)));
    }

    void imageSet()
    {
        const ImageSet s = loadImageSet(idx("images.idx.gz"), idx("labels.idx"));
        QCOMPARE(s.count, 3);
        QCOMPARE(s.height, 4);
        QCOMPARE(s.width, 5);
        const IdxArray raw = readIdx(idx("images.idx"));
        for (std::size_t i = 0; i < raw.values.size(); ++i)
            QCOMPARE(s.images[i], static_cast<float>(raw.values[i]) / 255.0f);
        QCOMPARE(s.labels, (std::vector<std::uint8_t>{7, 0, 9}));
    }

    void imageSetMismatches_data()
    {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");
        QTest::addColumn<QString>("message");
        QTest::addRow("label too large") << "images.idx" << "label_out_of_range.idx" << "label 10";
        QTest::addRow("count mismatch") << "images.idx" << "labels_count_mismatch.idx" << "2 labels";
        QTest::addRow("labels as images") << "labels.idx" << "labels.idx" << "3 dimensions";
    }
    void imageSetMismatches()
    {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        QFETCH(QString, message);
        test::expectError(
            [&] { loadImageSet(idx(images.toStdString()), idx(labels.toStdString())); },
            {message.toStdString()});
    }

    void datasetDirectory()
    {
        // Training files gzip-compressed, test files plain: both are found.
        const Dataset d = loadDataset(idx("dataset"));
        QCOMPARE(d.train.count, 3);
        QCOMPARE(d.test.count, 1);
        QCOMPARE(d.test.labels.front(), std::uint8_t{7});
        QVERIFY(datasetFile(d.directory, "train-images-idx3-ubyte").ends_with(".gz"));
    }

    void datasetErrors()
    {
        test::expectError([&] { resolveDatasetDirectory(idx("")); },
                          {"train-images-idx3-ubyte", "missing"});
        test::expectError([&] { resolveDatasetDirectory("/nonexistent/qs-dataset"); },
                          {"/nonexistent/qs-dataset", "not a dataset name"});
    }
};

QTEST_GUILESS_MAIN(TestIdx)
#include "tst_idx.moc"

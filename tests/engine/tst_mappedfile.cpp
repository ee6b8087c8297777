// A model file truncated by another program while it is mapped: reading past the new end
// raises SIGBUS in the kernel; io/mapping_guard turns it into zero pages plus a "damaged" mark,
// and every operation that read such a file reports an error naming it instead of crashing
// or returning numbers computed from zeros. Unrelated bus errors still end the process.
#include "../export/export_fixtures.h"
#include "analysis/tensor_outcome.h"
#include "export/export.h"
#include "io/mapped_file.h"
#include "testutil.h"

#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace qs;
using namespace qs::exporttest;

namespace {

constexpr std::size_t kPage = 4096;

void writeBytes(const std::string& path, std::size_t n, char fill)
{
    std::ofstream(path, std::ios::binary) << std::string(n, fill);
}

// Opens a safetensors file with one float32 tensor of `n` elements (normal values).
std::string bigModel(const QTemporaryDir& dir, std::size_t n)
{
    const std::string path = dir.filePath(QStringLiteral("big.safetensors")).toStdString();
    writeSafetensors(path, {{"w", DType::F32, {static_cast<std::int64_t>(n)},
                             bytesOf(test::normalData(n, 7))}});
    return path;
}

} // namespace

class TestMappedFile : public QObject
{
    Q_OBJECT

private slots:
    void readPastTruncationSeesZerosAndIsMarked_data()
    {
        QTest::addColumn<int>("keepPages");
        QTest::addColumn<int>("readPage");
        QTest::addRow("truncated to one page, read the last") << 1 << 15;
        QTest::addRow("truncated to one page, read the second") << 1 << 1;
        QTest::addRow("truncated to nothing") << 0 << 3;
        QTest::addRow("truncated mid-file") << 8 << 12;
    }
    void readPastTruncationSeesZerosAndIsMarked()
    {
        QFETCH(int, keepPages);
        QFETCH(int, readPage);
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("f.bin")).toStdString();
        writeBytes(path, 16 * kPage, 'x');
        const MappedFile file(path);
        QVERIFY(!file.damaged());
        QCOMPARE(char(file.bytes()[std::size_t(keepPages) * kPage / 2]), 'x');
        QCOMPARE(::truncate(path.c_str(), off_t(keepPages) * off_t(kPage)), 0);

        const auto* p = reinterpret_cast<const volatile char*>(file.bytes().data());
        QCOMPARE(char(p[std::size_t(readPage) * kPage + 5]), '\0');
        QVERIFY(file.damaged());
        // Bytes before the new end still read as stored.
        if (keepPages > 0) QCOMPARE(char(p[std::size_t(keepPages) * kPage - 1]), 'x');
    }

    void untouchedMappingStaysIntact()
    {
        QTemporaryDir dir;
        const std::string a = dir.filePath(QStringLiteral("a.bin")).toStdString();
        const std::string b = dir.filePath(QStringLiteral("b.bin")).toStdString();
        writeBytes(a, 4 * kPage, 'a');
        writeBytes(b, 4 * kPage, 'b');
        const MappedFile fa(a), fb(b);
        QCOMPARE(::truncate(a.c_str(), 0), 0);
        QCOMPARE(char(fa.bytes()[3 * kPage]), '\0');
        QCOMPARE(char(fb.bytes()[3 * kPage]), 'b');
        QVERIFY(fa.damaged());
        QVERIFY(!fb.damaged());
    }

    void analysisOfTruncatedModelIsAnError()
    {
        QTemporaryDir dir;
        const std::string path = bigModel(dir, 1 << 18); // 1 MiB of data
        const auto model = openModel(path);
        QCOMPARE(::truncate(path.c_str(), 64 * 1024), 0);
        const QuantSpec s = spec("int8", "channel");
        try {
            computeTensorOutcome(*model, 0, s, Control{}, false);
            QFAIL("no error for a file truncated while mapped");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(QString::fromStdString(path)), qPrintable(what));
            QVERIFY2(what.contains(QStringLiteral("truncated")), qPrintable(what));
        }
        QVERIFY_THROWS_EXCEPTION(Error, model->checkIntact());
    }

    void exportOfTruncatedModelLeavesNothing_data()
    {
        QTest::addColumn<QString>("out");
        QTest::addRow("gguf") << "out.gguf";
        QTest::addRow("packed safetensors") << "out.safetensors";
        QTest::addRow("hdf5") << "out.h5";
    }
    void exportOfTruncatedModelLeavesNothing()
    {
        QFETCH(QString, out);
        QTemporaryDir dir;
        const std::string path = bigModel(dir, 1 << 18);
        const auto model = openModel(path);
        QCOMPARE(::truncate(path.c_str(), 4096), 0);
        const std::string target = dir.filePath(out).toStdString();
        const auto tensors = plan(*model, {{"w", spec("q8_0")}});
        QVERIFY_THROWS_EXCEPTION(Error, exportModel(target, *model, tensors, ExportOptions{}));
        QCOMPARE(entries(dir), QStringList{QStringLiteral("big.safetensors")});
    }

    // The guard only claims faults inside mappings it knows: any other bus error goes to the
    // handler installed before it, which by default ends the process with SIGBUS (checked in a
    // child process). Under AddressSanitizer that handler is ASan's, which reports the fault
    // and exits with its error code instead.
    void foreignBusErrorStillKills()
    {
        QTemporaryDir dir;
        const std::string guarded = dir.filePath(QStringLiteral("g.bin")).toStdString();
        const std::string other = dir.filePath(QStringLiteral("o.bin")).toStdString();
        writeBytes(guarded, 2 * kPage, 'g');
        writeBytes(other, 2 * kPage, 'o');
        const MappedFile keep(guarded); // installs the handler
        const pid_t pid = ::fork();
        QVERIFY(pid >= 0);
        if (pid == 0) {
            const int fd = ::open(other.c_str(), O_RDONLY);
            void* p = ::mmap(nullptr, 2 * kPage, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED || ::ftruncate(::open(other.c_str(), O_WRONLY), 0) != 0)
                ::_exit(3);
            const volatile char c = static_cast<const volatile char*>(p)[kPage];
            ::_exit(c == 0 ? 4 : 5); // reached only when the fault was swallowed
        }
        int status = 0;
        QCOMPARE(::waitpid(pid, &status, 0), pid);
#if defined(__SANITIZE_ADDRESS__)
        // ASan's report ends with its exit code 1 (3: set-up failed; 4, 5: fault swallowed).
        QVERIFY2(WIFEXITED(status) && WEXITSTATUS(status) == 1, qPrintable(QString::number(status)));
#else
        QVERIFY2(WIFSIGNALED(status), qPrintable(QString::number(status)));
        QCOMPARE(WTERMSIG(status), SIGBUS);
#endif
    }
};

int main(int argc, char** argv)
{
    // The forked child of foreignBusErrorStillKills passes its bus error on to Qt Test's crash
    // handler, which would start a debugger for a stack dump; a plain report is enough.
    qputenv("QTEST_DISABLE_STACK_DUMP", "1");
    QCoreApplication app(argc, argv);
    TestMappedFile test;
    return QTest::qExec(&test, argc, argv);
}
#include "tst_mappedfile.moc"

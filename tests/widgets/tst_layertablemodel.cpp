// LayerTableModel over a real Document: model contract, formatting, editing and recompute.
#include "displayformat.h"
#include "document.h"
#include "formats/storage.h"
#include "layertablemodel.h"
#include "testmodel.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using qs::LayerTableModel;

namespace {
constexpr int kTimeoutMs = 30000;

bool allComputed(const qs::Document& d)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (!d.result(row)) return false;
    return d.tensorCount() > 0 && !d.isBusy();
}

int rowOf(const qs::Document& d, const char* name)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (d.tensor(row).name == name) return row;
    return -1;
}
} // namespace

class TestLayerTableModel : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void modelTester();
    void headers_data();
    void headers();
    void editable_data();
    void editable();
    void staticColumns_data();
    void staticColumns();
    void nonFloatRowsKeep();
    void setFormat_data();
    void setFormat();
    void setGranularity_data();
    void setGranularity();
    void updatesOnlyTheChangedRow();
    void resetsOnNewModel();

private:
    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<qs::Document> m_doc;
    std::unique_ptr<LayerTableModel> m_model;
};

void TestLayerTableModel::initTestCase()
{
    // Fixed formatting: thousands separators and decimal point as in the C locale.
    QLocale::setDefault(QLocale::c());
    QVERIFY(m_dir.isValid());
    m_path = qs::test::writeSmallModel(m_dir.path());
}

void TestLayerTableModel::init()
{
    m_doc = std::make_unique<qs::Document>();
    m_model = std::make_unique<LayerTableModel>(m_doc.get());
    m_doc->setModel(qs::openModel(m_path.toStdString()), m_path);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
}

void TestLayerTableModel::cleanup()
{
    m_model.reset();
    m_doc.reset();
}

void TestLayerTableModel::modelTester()
{
    QAbstractItemModelTester tester(m_model.get(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(m_model->rowCount(), 5);
    QCOMPARE(m_model->columnCount(), int(LayerTableModel::ColumnCount));
    // Recompute everything, then reopen, with the tester watching every signal.
    m_doc->setDefaultPrecision(qs::Precision{"int4", qs::Granularity::parse("group:8")});
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
    m_doc->setModel(qs::openModel(m_path.toStdString()), m_path);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
    QCOMPARE(m_model->rowCount(), 5);
}

void TestLayerTableModel::headers_data()
{
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("title");
    QTest::addColumn<bool>("numeric");
    QTest::addRow("name") << int(LayerTableModel::NameColumn) << "Name" << false;
    QTest::addRow("shape") << int(LayerTableModel::ShapeColumn) << "Shape" << false;
    QTest::addRow("dtype") << int(LayerTableModel::DTypeColumn) << "DType" << false;
    QTest::addRow("params") << int(LayerTableModel::ParamsColumn) << "Params" << true;
    QTest::addRow("format") << int(LayerTableModel::FormatColumn) << "Format" << false;
    QTest::addRow("granularity") << int(LayerTableModel::GranularityColumn) << "Granularity"
                                 << false;
    QTest::addRow("bytes before") << int(LayerTableModel::BytesBeforeColumn) << "Bytes before"
                                  << true;
    QTest::addRow("bytes after") << int(LayerTableModel::BytesAfterColumn) << "Bytes after" << true;
    QTest::addRow("bits") << int(LayerTableModel::BitsColumn) << "Bits/weight" << true;
    QTest::addRow("sqnr") << int(LayerTableModel::SqnrColumn) << "SQNR (dB)" << true;
    QTest::addRow("mse") << int(LayerTableModel::MseColumn) << "MSE" << true;
}

void TestLayerTableModel::headers()
{
    QFETCH(int, column);
    QFETCH(QString, title);
    QFETCH(bool, numeric);
    QCOMPARE(m_model->headerData(column, Qt::Horizontal).toString(), title);
    const auto align = m_model->index(0, column).data(Qt::TextAlignmentRole).value<Qt::Alignment>();
    QCOMPARE(bool(align & Qt::AlignRight), numeric);
}

void TestLayerTableModel::editable_data()
{
    QTest::addColumn<QString>("tensor");
    QTest::addColumn<bool>("formatEditable");
    QTest::addColumn<bool>("granularityEditable");
    // The default plan (int8 per channel) quantizes matrices; 1-D tensors stay as stored.
    QTest::addRow("matrix") << "layers.0.weight" << true << true;
    QTest::addRow("bias, kept") << "layers.0.bias" << true << false;
    QTest::addRow("I64") << "position_ids" << false << false;
}

void TestLayerTableModel::editable()
{
    QFETCH(QString, tensor);
    QFETCH(bool, formatEditable);
    QFETCH(bool, granularityEditable);
    const int row = rowOf(*m_doc, tensor.toUtf8().constData());
    QVERIFY(row >= 0);
    QCOMPARE(bool(m_model->index(row, LayerTableModel::FormatColumn).flags() & Qt::ItemIsEditable),
             formatEditable);
    QCOMPARE(
        bool(m_model->index(row, LayerTableModel::GranularityColumn).flags() & Qt::ItemIsEditable),
        granularityEditable);
    QVERIFY(!(m_model->index(row, LayerTableModel::NameColumn).flags() & Qt::ItemIsEditable));
}

void TestLayerTableModel::staticColumns_data()
{
    QTest::addColumn<QString>("tensor");
    QTest::addColumn<int>("column");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QVariant>("sortValue");
    QTest::addRow("shape") << "embed.weight" << int(LayerTableModel::ShapeColumn) << "[64, 40]"
                           << QVariant(qlonglong(2560));
    QTest::addRow("params, grouped") << "embed.weight" << int(LayerTableModel::ParamsColumn)
                                     << "2,560" << QVariant(qlonglong(2560));
    QTest::addRow("bytes, KiB") << "embed.weight" << int(LayerTableModel::BytesBeforeColumn)
                                << "10.0 KiB" << QVariant(qulonglong(10240));
    QTest::addRow("bytes, B") << "layers.0.bias" << int(LayerTableModel::BytesBeforeColumn)
                              << "64 B" << QVariant(qulonglong(64));
    QTest::addRow("dtype") << "position_ids" << int(LayerTableModel::DTypeColumn) << "I64"
                           << QVariant(QStringLiteral("I64"));
    QTest::addRow("format") << "layers.1.weight" << int(LayerTableModel::FormatColumn) << "int8"
                            << QVariant(QStringLiteral("int8"));
    QTest::addRow("granularity") << "layers.1.weight" << int(LayerTableModel::GranularityColumn)
                                 << "channel" << QVariant(qlonglong(0));
    QTest::addRow("kept granularity") << "layers.0.bias" << int(LayerTableModel::GranularityColumn)
                                      << qs::display::notAvailable() << QVariant();
    // 8 rows x (16 bytes of codes + one 4-byte scale) = 160 bytes: 10 bits per weight.
    QTest::addRow("bits/weight") << "layers.1.weight" << int(LayerTableModel::BitsColumn) << "10.00"
                                 << QVariant(10.0);
    QTest::addRow("kept sqnr") << "layers.0.bias" << int(LayerTableModel::SqnrColumn)
                               << qs::display::notAvailable() << QVariant();
    QTest::addRow("I64 mse") << "position_ids" << int(LayerTableModel::MseColumn)
                             << qs::display::notAvailable() << QVariant();
}

void TestLayerTableModel::staticColumns()
{
    QFETCH(QString, tensor);
    QFETCH(int, column);
    QFETCH(QString, text);
    QFETCH(QVariant, sortValue);
    const int row = rowOf(*m_doc, tensor.toUtf8().constData());
    QVERIFY(row >= 0);
    const QModelIndex index = m_model->index(row, column);
    QCOMPARE(index.data().toString(), text);
    QCOMPARE(index.data(LayerTableModel::SortRole), sortValue);
}

void TestLayerTableModel::nonFloatRowsKeep()
{
    const int row = rowOf(*m_doc, "position_ids");
    const QModelIndex format = m_model->index(row, LayerTableModel::FormatColumn);
    QCOMPARE(format.data().toString(), QStringLiteral("keep"));
    QVERIFY(!m_model->setData(format, QStringLiteral("int8")));
    QVERIFY(!m_doc->precision(row).has_value());
    QCOMPARE(m_model->index(row, LayerTableModel::BytesAfterColumn).data().toString(),
             QStringLiteral("96 B"));
}

void TestLayerTableModel::setFormat_data()
{
    QTest::addColumn<QString>("tensor");
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("granularity"); // expected afterwards; empty when kept
    QTest::addRow("int4 keeps channel") << "layers.0.weight"
                                        << "int4"
                                        << "channel";
    QTest::addRow("uint8") << "embed.weight"
                           << "uint8"
                           << "channel";
    QTest::addRow("fp16 has no scale") << "layers.1.weight"
                                       << "fp16"
                                       << "";
    QTest::addRow("keep") << "layers.0.weight"
                          << "keep"
                          << "";
    QTest::addRow("bias to int8") << "layers.0.bias"
                                  << "int8"
                                  << "channel";
}

void TestLayerTableModel::setFormat()
{
    QFETCH(QString, tensor);
    QFETCH(QString, format);
    QFETCH(QString, granularity);
    const int row = rowOf(*m_doc, tensor.toUtf8().constData());
    const qs::TensorInfo& t = m_doc->tensor(row);
    const QModelIndex formatIndex = m_model->index(row, LayerTableModel::FormatColumn);
    const QModelIndex after = m_model->index(row, LayerTableModel::BytesAfterColumn);
    const quint64 bytesBefore = m_doc->result(row)->bytesAfter;

    QSignalSpy results(m_doc.get(), &qs::Document::resultChanged);
    QVERIFY(m_model->setData(formatIndex, format));
    // The plan changes at once; the metrics follow when the background job delivers.
    QVERIFY(m_doc->precision(row).has_value() == (format != QLatin1String("keep")));
    QCOMPARE(formatIndex.data().toString(), format);
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}) && !m_doc->isBusy(), kTimeoutMs);

    const qs::TensorResultPtr r = m_doc->result(row);
    QVERIFY(r);
    QCOMPARE(r->formatName(), format);
    std::uint64_t expected = t.byteSize;
    if (format != QLatin1String("keep")) {
        const auto g =
            qs::Granularity::parse(granularity.isEmpty() ? "tensor" : granularity.toStdString());
        expected = qs::storageCost(t, *qs::findFormat(format.toStdString()), *g).bytes;
    }
    QCOMPARE(r->bytesAfter, expected);
    QCOMPARE(after.data().toString(), qs::display::bytes(expected));
    QCOMPARE(after.data(LayerTableModel::SortRole).toULongLong(), qulonglong(expected));
    QVERIFY(r->bytesAfter != bytesBefore); // every case here changes the size
    const QModelIndex g = m_model->index(row, LayerTableModel::GranularityColumn);
    QCOMPARE(g.data().toString(),
             granularity.isEmpty() ? qs::display::notAvailable() : granularity);
    const QString sqnr = m_model->index(row, LayerTableModel::SqnrColumn).data().toString();
    if (format == QLatin1String("keep"))
        QCOMPARE(sqnr, qs::display::notAvailable());
    else
        QVERIFY(sqnr != qs::display::notAvailable());
}

void TestLayerTableModel::setGranularity_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("accepted");
    QTest::addRow("tensor") << "tensor" << true;
    QTest::addRow("group:8") << "group:8" << true;
    QTest::addRow("spaces") << " group:16 " << true;
    QTest::addRow("group:0") << "group:0" << false;
    QTest::addRow("group:") << "group:" << false;
    QTest::addRow("nonsense") << "rows" << false;
}

void TestLayerTableModel::setGranularity()
{
    QFETCH(QString, text);
    QFETCH(bool, accepted);
    const int row = rowOf(*m_doc, "layers.0.weight");
    const QModelIndex index = m_model->index(row, LayerTableModel::GranularityColumn);
    QSignalSpy results(m_doc.get(), &qs::Document::resultChanged);
    QCOMPARE(m_model->setData(index, text), accepted);
    if (!accepted) {
        QCOMPARE(index.data().toString(), QStringLiteral("channel"));
        QCOMPARE(m_doc->plan().tensors.size(), std::size_t(0));
        return;
    }
    QCOMPARE(index.data().toString(), text.trimmed());
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}) && !m_doc->isBusy(), kTimeoutMs);
    QCOMPARE(m_doc->result(row)->granularityName(), text.trimmed());
}

void TestLayerTableModel::updatesOnlyTheChangedRow()
{
    const int row = rowOf(*m_doc, "layers.1.weight");
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy results(m_doc.get(), &qs::Document::resultChanged);
    QVERIFY(m_model->setData(m_model->index(row, LayerTableModel::FormatColumn),
                             QStringLiteral("uint4")));
    QTRY_VERIFY_WITH_TIMEOUT(!results.isEmpty() && !m_doc->isBusy(), kTimeoutMs);
    QVERIFY(changed.size() >= 2); // the precision at once, the metrics later
    for (const QVariantList& args : changed) {
        QCOMPARE(args.at(0).toModelIndex().row(), row);
        QCOMPARE(args.at(1).toModelIndex().row(), row);
    }
}

void TestLayerTableModel::resetsOnNewModel()
{
    QSignalSpy aboutToReset(m_model.get(), &QAbstractItemModel::modelAboutToBeReset);
    QSignalSpy reset(m_model.get(), &QAbstractItemModel::modelReset);
    m_doc->open(m_path);
    QTRY_COMPARE_WITH_TIMEOUT(reset.size(), 1, kTimeoutMs);
    QCOMPARE(aboutToReset.size(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
    QCOMPARE(m_model->rowCount(), 5);
}

QTEST_MAIN(TestLayerTableModel)
#include "tst_layertablemodel.moc"

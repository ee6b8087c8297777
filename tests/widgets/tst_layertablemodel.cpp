// LayerTableModel over a real Document: model contract, formatting, editing and recompute.
#include "displayformat.h"
#include "document.h"
#include "formats/ideal_sqnr.h"
#include "formats/storage.h"
#include "layertablemodel.h"
#include "precisionchoices.h"
#include "testmodel.h"

#include <QAbstractItemModelTester>
#include <QIcon>
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

// Sets a row's precision and waits for its new result.
bool recompute(qs::Document& d, int row, const qs::Precision& p)
{
    d.setPrecision(row, p);
    // The result of the row's new spec; a spec the row already had is not recomputed.
    return QTest::qWaitFor(
        [&] {
            return !d.isBusy() && d.result(row) &&
                   qs::sameSpec(d.result(row)->spec, d.plan().resolve(d.tensor(row)));
        },
        kTimeoutMs);
}

// The groups calibration changes under a spec, straight from the engine.
std::int64_t engineCalibratedGroups(const qs::Document& d, int row, const qs::QuantSpec& spec)
{
    const qs::TensorInfo& t = d.tensor(row);
    qs::TensorQuantizer quantizer(d.model()->data(t), t, spec);
    quantizer.computeScales(qs::Control{});
    return quantizer.calibratedGroups();
}

bool greyed(const QModelIndex& index)
{
    return index.data(Qt::ForegroundRole).isValid();
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
    void calibrationEditable_data();
    void calibrationEditable();
    void setCalibration_data();
    void setCalibration();
    void formatChangeKeepsCalibration_data();
    void formatChangeKeepsCalibration();
    void vsIdeal_data();
    void vsIdeal();
    void nonFiniteMarker_data();
    void nonFiniteMarker();
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
    QTest::addRow("calibration") << int(LayerTableModel::CalibrationColumn) << "Calibration"
                                 << false;
    QTest::addRow("bytes before") << int(LayerTableModel::BytesBeforeColumn) << "Bytes before"
                                  << true;
    QTest::addRow("bytes after") << int(LayerTableModel::BytesAfterColumn) << "Bytes after" << true;
    QTest::addRow("bits") << int(LayerTableModel::BitsColumn) << "Bits/weight" << true;
    QTest::addRow("sqnr") << int(LayerTableModel::SqnrColumn) << "SQNR (dB)" << true;
    QTest::addRow("vs ideal") << int(LayerTableModel::VsIdealColumn) << "vs ideal" << true;
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
    QTest::addRow("calibration") << "layers.1.weight" << int(LayerTableModel::CalibrationColumn)
                                 << "minmax" << QVariant(QStringLiteral("minmax"));
    QTest::addRow("kept calibration") << "layers.0.bias" << int(LayerTableModel::CalibrationColumn)
                                      << qs::display::notAvailable() << QVariant();
    // 8 rows x (16 bytes of codes + one 4-byte scale) = 160 bytes: 10 bits per weight.
    QTest::addRow("bits/weight") << "layers.1.weight" << int(LayerTableModel::BitsColumn) << "10.00"
                                 << QVariant(10.0);
    QTest::addRow("kept sqnr") << "layers.0.bias" << int(LayerTableModel::SqnrColumn)
                               << qs::display::notAvailable() << QVariant();
    QTest::addRow("I64 mse") << "position_ids" << int(LayerTableModel::MseColumn)
                             << qs::display::notAvailable() << QVariant();
    QTest::addRow("kept vs ideal") << "layers.0.bias" << int(LayerTableModel::VsIdealColumn)
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

void TestLayerTableModel::calibrationEditable_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<bool>("editable");
    QTest::addColumn<bool>("offersHqq");
    // Calibration chooses an integer grid's range; the other formats have fixed scale rules.
    QTest::addRow("int8") << "int8" << true << false;
    QTest::addRow("int4") << "int4" << true << false;
    QTest::addRow("int2") << "int2" << true << false;
    QTest::addRow("uint4, affine") << "uint4" << true << true;
    QTest::addRow("uint8, affine") << "uint8" << true << true;
    QTest::addRow("fp16") << "fp16" << false << false;
    QTest::addRow("fp8_e4m3") << "fp8_e4m3" << false << false;
    QTest::addRow("nf4") << "nf4" << false << false;
    QTest::addRow("mxfp4") << "mxfp4" << false << false;
    QTest::addRow("keep") << "keep" << false << false;
}

void TestLayerTableModel::calibrationEditable()
{
    QFETCH(QString, format);
    QFETCH(bool, editable);
    QFETCH(bool, offersHqq);
    const int row = rowOf(*m_doc, "layers.0.weight");
    const QModelIndex formatIndex = m_model->index(row, LayerTableModel::FormatColumn);
    const QModelIndex index = m_model->index(row, LayerTableModel::CalibrationColumn);
    QVERIFY(m_model->setData(formatIndex, format));
    QTRY_VERIFY_WITH_TIMEOUT(!m_doc->isBusy(), kTimeoutMs);
    QCOMPARE(bool(index.flags() & Qt::ItemIsEditable), editable);
    QCOMPARE(greyed(index), !editable);
    QCOMPARE(index.data().toString(),
             editable ? QStringLiteral("minmax") : qs::display::notAvailable());
    const QStringList choices = qs::choices::calibrationChoices(format);
    QCOMPARE(choices.isEmpty(), !editable);
    QCOMPARE(choices.contains(QStringLiteral("hqq")), offersHqq);
    if (editable)
        QCOMPARE(choices.mid(0, 4),
                 (QStringList{QStringLiteral("minmax"), QStringLiteral("percentile:99.9"),
                              QStringLiteral("percentile:99.99"), QStringLiteral("mse")}));
    // A cell that cannot be edited refuses a value, and the plan keeps no calibration for it.
    QCOMPARE(m_model->setData(index, QStringLiteral("mse")), editable);
    const auto p = m_doc->precision(row);
    QCOMPARE(p && p->calibration.has_value(), editable);
}

void TestLayerTableModel::setCalibration_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("granularity");
    QTest::addColumn<QString>("calibration");
    QTest::addColumn<bool>("accepted");
    QTest::addColumn<bool>("changesGroups"); // seen on this seeded data; 0 is always allowed
    QTest::addRow("int4 per tensor, mse") << "int4"
                                          << "tensor"
                                          << "mse" << true << true;
    QTest::addRow("int4 per channel, percentile") << "int4"
                                                  << "channel"
                                                  << "percentile:99.9" << true << false;
    QTest::addRow("uint4 groups, hqq") << "uint4"
                                       << "group:8"
                                       << "hqq" << true << true;
    QTest::addRow("uint8 per tensor, percentile:99.99") << "uint8"
                                                        << "tensor"
                                                        << "percentile:99.99" << true << false;
    QTest::addRow("int8, minmax again") << "int8"
                                        << "channel"
                                        << "minmax" << true << false;
    QTest::addRow("hqq refused on int4") << "int4"
                                         << "channel"
                                         << "hqq" << false << false;
    QTest::addRow("unknown method") << "int4"
                                    << "channel"
                                    << "median" << false << false;
    QTest::addRow("percentile out of range") << "int4"
                                             << "channel"
                                             << "percentile:20" << false << false;
}

void TestLayerTableModel::setCalibration()
{
    QFETCH(QString, format);
    QFETCH(QString, granularity);
    QFETCH(QString, calibration);
    QFETCH(bool, accepted);
    QFETCH(bool, changesGroups);
    const int row = rowOf(*m_doc, "embed.weight");
    const std::string name = m_doc->tensor(row).name;
    QVERIFY(recompute(
        *m_doc, row,
        qs::Precision{format.toStdString(), qs::Granularity::parse(granularity.toStdString())}));
    QCOMPARE(m_doc->result(row)->analysis->calibratedGroups, std::int64_t(0)); // min-max

    const QModelIndex index = m_model->index(row, LayerTableModel::CalibrationColumn);
    QSignalSpy changed(m_model.get(), &QAbstractItemModel::dataChanged);
    QSignalSpy results(m_doc.get(), &qs::Document::resultChanged);
    QCOMPARE(m_model->setData(index, calibration), accepted);
    const auto c = qs::Calibration::parse(calibration.toStdString());
    if (!accepted) {
        QCOMPARE(index.data().toString(), QStringLiteral("minmax"));
        QVERIFY(!m_doc->plan().tensors.at(name).calibration.has_value());
        QVERIFY(!m_doc->isBusy());
        return;
    }
    QCOMPARE(index.data().toString(), calibration);
    const bool noOp = c->method == qs::Calibration::Method::MinMax;
    // The plan entry of that tensor carries the calibration (none for a no-op edit).
    QCOMPARE(m_doc->plan().tensors.at(name).calibration, noOp ? std::nullopt : c);
    if (noOp) {
        QVERIFY(!m_doc->isBusy()); // nothing to recompute
        return;
    }
    QTRY_VERIFY_WITH_TIMEOUT(results.contains(QVariantList{row}) && !m_doc->isBusy(), kTimeoutMs);
    QCOMPARE(results.size(), 1); // that row only
    for (const QVariantList& args : changed)
        QCOMPARE(args.at(0).toModelIndex().row(), row);

    const qs::TensorResultPtr r = m_doc->result(row);
    QCOMPARE(r->spec->calibration, *c);
    const std::int64_t expected = engineCalibratedGroups(*m_doc, row, *r->spec);
    QCOMPARE(r->analysis->calibratedGroups, expected);
    QVERIFY(r->analysis->calibratedGroups <= r->analysis->scaleGroups);
    if (changesGroups) QVERIFY(r->analysis->calibratedGroups > 0);
    QVERIFY(index.data(Qt::ToolTipRole)
                .toString()
                .contains(QStringLiteral("groups changed: %1 of %2")
                              .arg(qs::display::count(expected),
                                   qs::display::count(r->analysis->scaleGroups))));
}

void TestLayerTableModel::formatChangeKeepsCalibration_data()
{
    QTest::addColumn<QString>("from");
    QTest::addColumn<QString>("calibration");
    QTest::addColumn<QString>("to");
    QTest::addColumn<QString>("shown"); // the calibration cell afterwards
    QTest::addRow("int8 to int4 keeps mse") << "int8"
                                            << "mse"
                                            << "int4"
                                            << "mse";
    QTest::addRow("uint8 to uint4 keeps hqq") << "uint8"
                                              << "hqq"
                                              << "uint4"
                                              << "hqq";
    QTest::addRow("uint4 to int4 drops hqq") << "uint4"
                                             << "hqq"
                                             << "int4"
                                             << "minmax";
    QTest::addRow("to fp16: not applicable") << "int8"
                                             << "percentile:99.9"
                                             << "fp16" << qs::display::notAvailable();
}

void TestLayerTableModel::formatChangeKeepsCalibration()
{
    QFETCH(QString, from);
    QFETCH(QString, calibration);
    QFETCH(QString, to);
    QFETCH(QString, shown);
    const int row = rowOf(*m_doc, "layers.0.weight");
    QVERIFY(recompute(*m_doc, row,
                      qs::Precision{from.toStdString(), qs::Granularity::parse("channel"),
                                    qs::Calibration::parse(calibration.toStdString())}));
    QVERIFY(m_model->setData(m_model->index(row, LayerTableModel::FormatColumn), to));
    QTRY_VERIFY_WITH_TIMEOUT(!m_doc->isBusy(), kTimeoutMs);
    QCOMPARE(m_model->index(row, LayerTableModel::CalibrationColumn).data().toString(), shown);
    const qs::TensorResultPtr r = m_doc->result(row);
    QCOMPARE(r->formatName(), to);
    if (r->spec->format->integer())
        QCOMPARE(QString::fromStdString(r->spec->calibration.toString()), shown);
}

void TestLayerTableModel::vsIdeal_data()
{
    QTest::addColumn<QString>("format");
    QTest::addColumn<QString>("granularity");
    QTest::addColumn<int>("bits"); // 0: no ideal reference
    QTest::addRow("int8 per channel") << "int8"
                                      << "channel" << 8;
    QTest::addRow("int4 per tensor") << "int4"
                                     << "tensor" << 4;
    QTest::addRow("uint4 groups") << "uint4"
                                  << "group:8" << 4;
    QTest::addRow("int2") << "int2"
                          << "channel" << 2;
    QTest::addRow("uint6") << "uint6"
                           << "channel" << 6;
    QTest::addRow("fp8 has none") << "fp8_e4m3"
                                  << "channel" << 0;
    QTest::addRow("nf4 has none") << "nf4"
                                  << "group:64" << 0;
    QTest::addRow("fp16 has none") << "fp16"
                                   << "" << 0;
}

void TestLayerTableModel::vsIdeal()
{
    QFETCH(QString, format);
    QFETCH(QString, granularity);
    QFETCH(int, bits);
    const int row = rowOf(*m_doc, "embed.weight");
    QVERIFY(recompute(
        *m_doc, row,
        qs::Precision{format.toStdString(), qs::Granularity::parse(granularity.toStdString())}));
    const qs::TensorResultPtr r = m_doc->result(row);
    const QModelIndex index = m_model->index(row, LayerTableModel::VsIdealColumn);
    const QString sqnrTip =
        m_model->index(row, LayerTableModel::SqnrColumn).data(Qt::ToolTipRole).toString();
    if (bits == 0) {
        QCOMPARE(index.data().toString(), qs::display::notAvailable());
        QVERIFY(!index.data(LayerTableModel::SortRole).isValid());
        QVERIFY(!sqnrTip.contains(QStringLiteral("Ideal for a Gaussian")));
        return;
    }
    const double measured = *r->analysis->sums.sqnrDb();
    const double uniform = qs::idealSqnrDb(bits, qs::IdealQuantizer::Uniform);
    const double lloydMax = qs::idealSqnrDb(bits, qs::IdealQuantizer::LloydMax);
    const double expected = measured - uniform;
    QCOMPARE(index.data(LayerTableModel::SortRole).toDouble(), expected);
    QCOMPARE(index.data().toString(), qs::display::signedDecibels(expected));
    const QString ideal =
        QStringLiteral("Ideal for a Gaussian at %1 bits: uniform %2 dB, "
                       "Lloyd-Max %3 dB; this layer is %4 dB %5")
            .arg(bits)
            .arg(qs::display::fixed(uniform, 2), qs::display::fixed(lloydMax, 2),
                 qs::display::decibels(std::abs(expected)),
                 expected < 0 ? QStringLiteral("below") : QStringLiteral("above"));
    QVERIFY2(sqnrTip.contains(ideal), qPrintable(sqnrTip));
    QCOMPARE(index.data(Qt::ToolTipRole).toString(), sqnrTip);
}

void TestLayerTableModel::nonFiniteMarker_data()
{
    QTest::addColumn<QString>("tensor");
    QTest::addColumn<QString>("warning"); // empty: no marker
    QTest::addRow("clean") << "clean.weight" << QString();
    QTest::addRow("NaN and Inf") << "mixed.weight"
                                 << "3 NaN and 1 infinite values: left out of the metrics";
    QTest::addRow("one NaN") << "nan.weight"
                             << "1 NaN value: left out of the metrics";
    QTest::addRow("two Inf") << "inf.weight"
                             << "2 infinite values: left out of the metrics";
}

void TestLayerTableModel::nonFiniteMarker()
{
    QFETCH(QString, tensor);
    QFETCH(QString, warning);
    const QString path = qs::test::writeNonFiniteModel(m_dir.path());
    qs::Document doc;
    LayerTableModel model(&doc);
    doc.setModel(qs::openModel(path.toStdString()), path);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(doc), kTimeoutMs);
    const int row = rowOf(doc, tensor.toUtf8().constData());
    QVERIFY(row >= 0);
    const QModelIndex name = model.index(row, LayerTableModel::NameColumn);
    const QModelIndex sqnr = model.index(row, LayerTableModel::SqnrColumn);
    const QVariant icon = name.data(Qt::DecorationRole);
    QCOMPARE(icon.isValid() && !icon.value<QIcon>().isNull(), !warning.isEmpty());
    const QString nameTip = name.data(Qt::ToolTipRole).toString();
    const QString sqnrTip = sqnr.data(Qt::ToolTipRole).toString();
    if (warning.isEmpty()) {
        QVERIFY(!nameTip.contains(QStringLiteral("left out")));
        QVERIFY(!sqnrTip.contains(QStringLiteral("left out")));
    } else {
        QVERIFY2(nameTip.contains(warning), qPrintable(nameTip));
        QVERIFY2(sqnrTip.contains(warning), qPrintable(sqnrTip));
    }
    // The metrics stay finite: the non-finite weights are left out, not propagated.
    QVERIFY(std::isfinite(sqnr.data(LayerTableModel::SortRole).toDouble()));
}

QTEST_MAIN(TestLayerTableModel)
#include "tst_layertablemodel.moc"

// The metadata table: follows the open model, passes QAbstractItemModelTester.
#include "document.h"
#include "metadatamodel.h"

#include <QAbstractItemModelTester>
#include <QtTest>

using namespace qs;

class TestMetadataModel : public QObject
{
    Q_OBJECT
private slots:
    void followsTheOpenModel()
    {
        Document doc;
        MetadataModel model(&doc);
        QAbstractItemModelTester tester(&model,
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(model.rowCount(), 0);
        QCOMPARE(model.columnCount(), 2);

        // A GGUF file carries dozens of key/values, arrays among them.
        const auto gguf = openModel(QS_TEST_DATA "/gguf/k_quants.gguf");
        doc.setModel(gguf, QStringLiteral("k_quants.gguf"));
        QCOMPARE(model.rowCount(), static_cast<int>(gguf->metadata.size()) + 1);
        QCOMPARE(model.index(0, 1).data().toString(), QStringLiteral("gguf"));
        int found = 0;
        for (int row = 0; row < model.rowCount(); ++row) {
            const QString key = model.index(row, 0).data().toString();
            const auto it = gguf->metadata.find(key.toStdString());
            if (it == gguf->metadata.end()) continue;
            ++found;
            const QString value = QString::fromStdString(it->second);
            QCOMPARE(model.index(row, 1).data(Qt::ToolTipRole).toString(),
                     value.left(4000) +
                         (value.size() > 4000 ? QStringLiteral("\u2026") : QString()));
        }
        QCOMPARE(found, static_cast<int>(gguf->metadata.size()));
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);

        doc.setModel(openModel(QS_EXAMPLE_MODEL), QStringLiteral("example.safetensors"));
        QCOMPARE(model.index(0, 1).data().toString(), QStringLiteral("safetensors"));
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
    }
};

QTEST_MAIN(TestMetadataModel)
#include "tst_metadatamodel.moc"

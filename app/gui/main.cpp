// QuantScope's entry point: opens the model named on the command line, or the bundled example.
#include "examplemodel.h"
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char* argv[])
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("QuantScope"));
    QApplication::setApplicationName(QStringLiteral("QuantScope"));
    QApplication::setApplicationVersion(QStringLiteral(QS_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QApplication::translate("main", "Inspect the quantization of neural-network weights."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        QStringLiteral("model"),
        QApplication::translate("main", "Model file or .qscope session to open (default: the bundled example)."),
        QStringLiteral("[model]"));
    parser.process(app);

    qs::MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    const QString path = args.isEmpty() ? qs::findDefaultModel() : args.constFirst();
    if (!path.isEmpty()) window.openFile(path);
    return app.exec();
}

#include "examplemodel.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace qs {

QString findExampleModel()
{
    // QS_MODELS_FROM_BINDIR: the installed models relative to the installed executable
    // (../share/quantscope/models), so an installed copy is found under any prefix.
    const QString installed =
        QDir(QCoreApplication::applicationDirPath())
            .absoluteFilePath(QStringLiteral(QS_MODELS_FROM_BINDIR "/example.safetensors"));
    for (const QString& candidate : {installed, QStringLiteral(QS_EXAMPLE_MODEL)}) {
        if (QFileInfo(candidate).isFile()) return QDir::cleanPath(candidate);
    }
    return {};
}

QString findDefaultModel()
{
    const QString example = findExampleModel();
    if (example.isEmpty()) return {};
    const QString cnn =
        QFileInfo(example).dir().absoluteFilePath(QStringLiteral("fashion-mnist-cnn.h5"));
    return QFileInfo(cnn).isFile() ? cnn : example;
}

} // namespace qs

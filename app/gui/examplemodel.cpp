#include "examplemodel.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace qs {

QString findExampleModel()
{
    const QString installed =
        QDir(QCoreApplication::applicationDirPath())
            .absoluteFilePath(QStringLiteral("../share/quantscope/models/example.safetensors"));
    for (const QString& candidate : {installed, QStringLiteral(QS_EXAMPLE_MODEL)}) {
        if (QFileInfo(candidate).isFile()) return QDir::cleanPath(candidate);
    }
    return {};
}

} // namespace qs

#include "learn/lessondata.h"

#include "analysis/analyze.h"
#include "analysis/tensor_source.h"
#include "core/error.h"
#include "examplemodel.h"

#include <QDir>
#include <QFileInfo>

#include <cmath>
#include <limits>

namespace qs {

std::shared_ptr<const Model> lessonModel()
{
    // Opening reads headers and maps the file; sharing one mapping keeps every lesson cheap.
    static const std::shared_ptr<const Model> model = [] {
        const QString path = findExampleModel();
        if (path.isEmpty()) throw Error("the bundled example model was not found");
        return openModel(path.toStdString());
    }();
    return model;
}

QString lessonClassifierPath()
{
    const QString example = findExampleModel();
    if (example.isEmpty()) return {};
    const QString path =
        QFileInfo(example).dir().absoluteFilePath(QStringLiteral("fashion-mnist-cnn.h5"));
    return QFileInfo(path).isFile() ? path : QString();
}

FloatTensor loadTensor(const Model& model, const std::string& name)
{
    const TensorInfo* info = model.find(name);
    if (!info) throw Error("the example model has no tensor " + name);
    FloatTensor t;
    t.values.resize(static_cast<std::size_t>(info->numel()));
    // One channel reads the tensor in plain memory order, whatever its stored type.
    TensorSource(model.data(*info), *info, -1).read(0, 0, info->numel(), t.values.data());
    t.info.name = info->name;
    t.info.shape = info->shape;
    t.info.channelAxis = info->channelAxis;
    t.info.dtype = DType::F32;
    t.info.storedType = "F32";
    t.info.byteSize = t.values.size() * sizeof(float);
    return t;
}

Measurement measure(const FloatTensor& tensor, const QuantSpec& spec)
{
    TensorQuantizer quantizer(tensor.bytes(), tensor.info, spec);
    const TensorAnalysis a = analyzeTensor(quantizer, Control{}, 16);
    Measurement m;
    m.sqnrDb = a.sums.sqnrDb().value_or(std::numeric_limits<double>::infinity());
    const StorageCost cost = storageCost(tensor.info, spec);
    m.bitsPerWeight = cost.bitsPerWeight;
    m.scaleGroups = cost.scaleGroups;
    return m;
}

QuantSpec makeSpec(const char* format, const char* granularity, const char* calibration)
{
    QuantSpec spec(findFormat(format), *Granularity::parse(granularity));
    spec.calibration = *Calibration::parse(calibration);
    return spec;
}

QString formatDb(double db)
{
    if (std::isinf(db)) return QStringLiteral("exact");
    return QStringLiteral("%1 dB").arg(db, 0, 'f', 1);
}

} // namespace qs

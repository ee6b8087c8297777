#include "nn/architectures.h"

#include "core/error.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/elementwise.h"
#include "nn/pooling.h"

namespace qs::nn {
namespace {

void addConvBlock(Sequential& m, int index, std::int64_t filters)
{
    Conv2DOptions c;
    c.filters = filters;
    c.same = true;
    c.useBias = false; // the batch norm's beta is the bias
    const std::string n = std::to_string(index);
    m.add(std::make_unique<Conv2D>("conv2d_" + n, c));
    m.add(std::make_unique<BatchNorm>("batch_normalization_" + n));
    m.add(std::make_unique<ReLU>("re_lu_" + n));
    m.add(std::make_unique<Pool2D>("max_pooling2d_" + n, PoolOptions{}, true));
}

} // namespace

Sequential makeArchitecture(const std::string& arch, const Shape& input, int classes)
{
    Sequential m;
    if (arch == "cnn") {
        m.name = "fashion_cnn";
        addConvBlock(m, 1, 16);
        addConvBlock(m, 2, 32);
        m.add(std::make_unique<Flatten>("flatten"));
        m.add(std::make_unique<Dense>("dense_1", 128));
        m.add(std::make_unique<ReLU>("re_lu_3"));
        m.add(std::make_unique<Dropout>("dropout", 0.3f));
        m.add(std::make_unique<Dense>("dense_2", classes));
    } else if (arch == "mlp") {
        m.name = "fashion_mlp";
        m.add(std::make_unique<Flatten>("flatten"));
        m.add(std::make_unique<Dense>("dense_1", 256));
        m.add(std::make_unique<ReLU>("re_lu_1"));
        m.add(std::make_unique<Dropout>("dropout", 0.2f));
        m.add(std::make_unique<Dense>("dense_2", 128));
        m.add(std::make_unique<ReLU>("re_lu_2"));
        m.add(std::make_unique<Dense>("dense_3", classes));
    } else {
        throw Error("unknown architecture '" + arch + "' (cnn or mlp)");
    }
    m.build(input);
    return m;
}

} // namespace qs::nn

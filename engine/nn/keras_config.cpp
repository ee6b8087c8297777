#include "nn/keras_config.h"

#include "core/error.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/dense.h"
#include "nn/elementwise.h"
#include "nn/pooling.h"

namespace qs::nn {

Json kerasModelConfig(const Sequential& model)
{
    if (!model.built()) throw Error("model '" + model.name + "' is not built");
    Json batchShape = Json::array({nullptr});
    for (const auto d : model.inputShape())
        batchShape.push_back(d);
    Json layers = Json::array();
    layers.push_back({{"class_name", "InputLayer"},
                      {"config",
                       {{"batch_input_shape", batchShape},
                        {"dtype", "float32"},
                        {"sparse", false},
                        {"ragged", false},
                        {"name", "input_1"}}}});
    for (std::size_t i = 0; i < model.size(); ++i) {
        const Layer& l = model.layer(i);
        Json cfg = {{"name", l.name()}, {"trainable", true}, {"dtype", "float32"}};
        const Json own = l.config();
        for (const auto& [k, v] : own.items())
            cfg[k] = v;
        layers.push_back({{"class_name", l.className()}, {"config", cfg}});
    }
    return {{"class_name", "Sequential"}, {"config", {{"name", model.name}, {"layers", layers}}}};
}

namespace {

// Reads one layer's config, with errors that name the file, the layer and the key.
class LayerConfig
{
public:
    LayerConfig(const Json& layer, std::string where) : m_where(std::move(where))
    {
        if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
            throw Error(m_where + ": a layer of the model config has no class_name");
        cls = layer["class_name"].get<std::string>();
        if (layer.contains("config") && layer["config"].is_object()) m_cfg = layer["config"];
        name = m_cfg.contains("name") && m_cfg["name"].is_string() ? m_cfg["name"].get<std::string>()
                                                                   : std::string();
        if (name.empty()) throw Error(m_where + ": a " + cls + " layer has no name");
    }

    [[noreturn]] void fail(const std::string& what) const
    {
        throw Error(m_where + ": layer '" + name + "' (" + cls + "): " + what);
    }
    bool has(const char* key) const { return m_cfg.contains(key) && !m_cfg[key].is_null(); }
    const Json& at(const char* key) const { return m_cfg[key]; }

    std::string str(const char* key, const std::string& fallback) const
    {
        if (!has(key)) return fallback;
        if (!m_cfg[key].is_string()) fail(std::string("'") + key + "' is not a string");
        return m_cfg[key].get<std::string>();
    }
    double number(const char* key, double fallback) const
    {
        if (!has(key)) return fallback;
        if (!m_cfg[key].is_number()) fail(std::string("'") + key + "' is not a number");
        return m_cfg[key].get<double>();
    }
    bool flag(const char* key, bool fallback) const
    {
        if (!has(key)) return fallback;
        if (!m_cfg[key].is_boolean()) fail(std::string("'") + key + "' is not true or false");
        return m_cfg[key].get<bool>();
    }
    std::int64_t integer(const char* key, std::int64_t fallback) const
    {
        if (!has(key)) return fallback;
        if (!m_cfg[key].is_number_integer()) fail(std::string("'") + key + "' is not an integer");
        return m_cfg[key].get<std::int64_t>();
    }
    // A Keras size pair: 3 or [3, 3].
    std::pair<std::int64_t, std::int64_t> pair(const char* key,
                                               std::pair<std::int64_t, std::int64_t> fallback) const
    {
        if (!has(key)) return fallback;
        const Json& v = m_cfg[key];
        if (v.is_number_integer()) return {v.get<std::int64_t>(), v.get<std::int64_t>()};
        if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer())
            return {v[0].get<std::int64_t>(), v[1].get<std::int64_t>()};
        fail(std::string("'") + key + "' is not one or two integers");
    }
    bool samePadding() const
    {
        const std::string p = str("padding", "valid");
        if (p != "valid" && p != "same") fail("padding '" + p + "' is not valid or same");
        return p == "same";
    }
    void requireChannelsLast() const
    {
        const std::string f = str("data_format", "channels_last");
        if (f != "channels_last") fail("data_format '" + f + "' is not supported (channels_last)");
    }

    std::string cls, name;

private:
    std::string m_where;
    Json m_cfg = Json::object();
};

std::unique_ptr<Layer> makeLayer(const LayerConfig& c, const Shape& input)
{
    if (c.cls == "Dense") {
        return std::make_unique<Dense>(c.name, c.integer("units", 0), c.flag("use_bias", true),
                                       c.str("activation", "linear"));
    }
    if (c.cls == "Conv2D") {
        c.requireChannelsLast();
        if (c.pair("dilation_rate", {1, 1}) != std::pair<std::int64_t, std::int64_t>{1, 1})
            c.fail("dilated convolutions are not supported");
        if (c.integer("groups", 1) != 1) c.fail("grouped convolutions are not supported");
        Conv2DOptions o;
        o.filters = c.integer("filters", 0);
        std::tie(o.kernelH, o.kernelW) = c.pair("kernel_size", {0, 0});
        std::tie(o.strideH, o.strideW) = c.pair("strides", {1, 1});
        o.same = c.samePadding();
        o.useBias = c.flag("use_bias", true);
        o.activation = c.str("activation", "linear");
        return std::make_unique<Conv2D>(c.name, o);
    }
    if (c.cls == "MaxPooling2D" || c.cls == "AveragePooling2D") {
        c.requireChannelsLast();
        PoolOptions o;
        std::tie(o.poolH, o.poolW) = c.pair("pool_size", {2, 2});
        std::tie(o.strideH, o.strideW) = c.pair("strides", {o.poolH, o.poolW});
        o.same = c.samePadding();
        return std::make_unique<Pool2D>(c.name, o, c.cls == "MaxPooling2D");
    }
    if (c.cls == "Flatten") {
        c.requireChannelsLast();
        return std::make_unique<Flatten>(c.name);
    }
    if (c.cls == "BatchNormalization") {
        // Only the last axis: -1, or its index counted with the batch axis.
        const Json& a = c.has("axis") ? c.at("axis") : Json(-1);
        const Json axis = a.is_array() && a.size() == 1 ? a[0] : a;
        const auto last = static_cast<std::int64_t>(input.size());
        if (!axis.is_number_integer() ||
            (axis.get<std::int64_t>() != -1 && axis.get<std::int64_t>() != last))
            c.fail("only normalisation over the last (channel) axis is supported, not " + a.dump());
        BatchNormOptions o;
        o.momentum = static_cast<float>(c.number("momentum", 0.99));
        o.epsilon = static_cast<float>(c.number("epsilon", 1e-3));
        o.center = c.flag("center", true);
        o.scale = c.flag("scale", true);
        return std::make_unique<BatchNorm>(c.name, o);
    }
    if (c.cls == "Dropout")
        return std::make_unique<Dropout>(c.name, static_cast<float>(c.number("rate", 0.5)));
    if (c.cls == "Rescaling")
        return std::make_unique<Rescaling>(c.name, static_cast<float>(c.number("scale", 1.0)),
                                           static_cast<float>(c.number("offset", 0.0)));
    if (c.cls == "ReLU") {
        if (c.has("max_value") || c.number("negative_slope", 0) != 0 || c.number("threshold", 0) != 0)
            c.fail("only the plain ReLU (no max_value, negative_slope or threshold) is supported");
        return std::make_unique<ReLU>(c.name);
    }
    if (c.cls == "Softmax") {
        if (c.integer("axis", -1) != -1 && c.integer("axis", -1) != static_cast<std::int64_t>(input.size()))
            c.fail("only the softmax over the last axis is supported");
        return std::make_unique<Softmax>(c.name);
    }
    if (c.cls == "Activation") {
        const std::string act = c.str("activation", "linear");
        if (act == "linear") c.fail("a linear Activation layer is not supported");
        try {
            return makeActivation(act, c.name);
        } catch (const Error& e) {
            c.fail(e.what());
        }
    }
    c.fail("this layer class is not supported by the runtime");
}

// The per-sample input shape from [null, d1, d2, ...].
Shape inputShapeFrom(const LayerConfig& c, const Json& batchShape)
{
    if (!batchShape.is_array() || batchShape.size() < 2)
        c.fail("batch_input_shape is not [null, d1, ...]");
    Shape s;
    for (std::size_t i = 1; i < batchShape.size(); ++i) {
        if (!batchShape[i].is_number_integer() || batchShape[i].get<std::int64_t>() < 1)
            c.fail("the input shape " + batchShape.dump() + " is not fully known");
        s.push_back(batchShape[i].get<std::int64_t>());
    }
    return s;
}

} // namespace

Sequential sequentialFromKerasConfig(const std::string& text, const std::string& where)
{
    const Json root = Json::parse(text, nullptr, false);
    if (root.is_discarded()) throw Error(where + ": model_config is not valid JSON");
    // Every kind is checked before a value is taken: nlohmann's value() and get() throw their
    // own type_error on a JSON value of another kind.
    if (!root.is_object()) throw Error(where + ": model_config is not a JSON object");
    const auto classIt = root.find("class_name");
    const std::string cls = classIt != root.end() && classIt->is_string()
                                ? classIt->get<std::string>()
                                : std::string();
    if (cls != "Sequential")
        throw Error(where + ": the model is a " + (cls.empty() ? std::string("model without a class") : cls) +
                    "; only Sequential models can be run");
    Sequential model;
    const Json& cfg = root.contains("config") ? root["config"] : Json();
    // Keras 2.0-2.2 wrote the layer list as the config itself.
    const Json& layers = cfg.is_array() ? cfg : (cfg.is_object() && cfg.contains("layers") ? cfg["layers"] : Json());
    if (cfg.is_object() && cfg.contains("name") && cfg["name"].is_string())
        model.name = cfg["name"].get<std::string>();
    if (!layers.is_array() || layers.empty()) throw Error(where + ": the model config lists no layers");
    Shape input, shape;
    for (const Json& l : layers) {
        const LayerConfig c(l, where);
        if (input.empty()) {
            if (!c.has("batch_input_shape"))
                c.fail("the model config does not give the input shape (batch_input_shape)");
            input = shape = inputShapeFrom(c, c.at("batch_input_shape"));
            if (c.cls == "InputLayer") continue;
        } else if (c.cls == "InputLayer") {
            c.fail("an InputLayer must come first");
        }
        // Built as it is read, so a layer that does not fit is reported by name.
        try {
            auto layer = makeLayer(c, shape);
            shape = layer->build(shape);
            model.add(std::move(layer));
            // Checked layer by layer, so the parameters never grow far past the limit.
            if (model.parameterCount() > kMaxModelParamValues)
                c.fail("the model's parameters would hold more than " +
                       std::to_string(kMaxModelParamValues) + " values, the runtime's limit");
        } catch (const Error& e) {
            const std::string msg = e.what();
            if (msg.rfind(where, 0) == 0) throw;
            throw Error(where + ": " + msg);
        }
    }
    if (model.size() == 0) throw Error(where + ": the model config has no layers besides its input");
    model.build(input);
    return model;
}

} // namespace qs::nn

// Shared pieces of quantscope-cli: argument parsing, exit codes, JSON helpers.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace qs::cli {

enum ExitCode { Ok = 0, Usage = 2, BadInput = 3 };

// A command-line mistake: printed with a hint to --help, exit code 2.
struct UsageError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

using Json = nlohmann::ordered_json;

// Splits a subcommand's arguments into positionals, flags and --option values.
class Args
{
public:
    Args(const std::vector<std::string>& argv, const std::set<std::string>& flags,
         const std::set<std::string>& options);
    bool flag(const std::string& name) const { return m_flags.count(name) > 0; }
    std::optional<std::string> option(const std::string& name) const;
    const std::vector<std::string>& positionals() const { return m_positionals; }
    int intOption(const std::string& name, int fallback, int min, int max) const;

private:
    std::set<std::string> m_flags;
    std::map<std::string, std::string> m_options;
    std::vector<std::string> m_positionals;
};

// A double as JSON, null when it is not finite (JSON has no NaN or Infinity).
Json number(double v);
Json number(const std::optional<double>& v);
void printJson(const Json& j);
std::string humanBytes(double bytes);

int cmdInspect(const std::vector<std::string>& args);
int benchModel(const std::string& path, int threads, bool json); // bench --model
int cmdQuantize(const std::vector<std::string>& args);
int cmdFormats(const std::vector<std::string>& args);
int cmdBench(const std::vector<std::string>& args);
int cmdTrain(const std::vector<std::string>& args);
int cmdEvaluate(const std::vector<std::string>& args);
int cmdQat(const std::vector<std::string>& args);
int cmdReport(const std::vector<std::string>& args);
int cmdExplain(const std::vector<std::string>& args);
int cmdSize(const std::vector<std::string>& args);
int cmdAllocate(const std::vector<std::string>& args);

} // namespace qs::cli

namespace qs {
class Plan;
struct Model;
struct Control;
struct TensorOutcome;
} // namespace qs

namespace qs::cli {

// The plan of --plan FILE, or of --format/--granularity/--calibration/--rounding, with --seed;
// `command` names the subcommand in usage errors.
Plan planFromArgs(const Args& args, const std::string& command);
// Every tensor of `model` under `plan`, in model order; kept tensors are not analysed.
std::vector<TensorOutcome> computeOutcomes(const Model& model, const Plan& plan,
                                           const Control& control, bool showProgress);

} // namespace qs::cli

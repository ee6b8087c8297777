// Malformed plans and the error each must produce (kept out of the test class: moc's
// tokenizer trips over some of these string literals).
#pragma once

struct PlanErrorCase
{
    const char* name;
    const char* json;
    const char* message;
};

inline constexpr PlanErrorCase kPlanErrors[] = {
    {"invalid json", "{\"default\": ", "invalid JSON"},
    {"not an object", "[]", "a plan is a JSON object"},
    {"number overflow", R"({"default": {"format": "int8", "x": 1e99999}})", "invalid JSON"},
    {"unknown key", R"({"defaults": {}})", "unknown plan key \"defaults\""},
    {"unknown format", R"({"default": {"format": "int9"}})", "unknown format \"int9\""},
    {"bad granularity", R"({"default": {"format": "int8", "granularity": "group:0"}})",
     "bad granularity"},
    {"rule without match", R"({"rules": [{"format": "int8"}]})", "rule 1 needs a \"match\" string"},
    {"bad regex", R"({"rules": [{"match": "(", "format": "int8"}]})",
     "rule 1: bad regular expression"},
    // Found by fuzzing: exponential backtracking in std::regex, and a count overflowing in it.
    {"nested quantifier", R"({"rules": [{"match": "self_a+++.+++++t", "format": "keep"}]})",
     "nested quantifier"},
    {"quantified group of a quantifier", R"({"rules": [{"match": "(a+)+b", "format": "keep"}]})",
     "nested quantifier"},
    {"huge repetition count",
     R"({"rules": [{"match": "a{4444444444444444444}", "format": "keep"}]})", "over 999"},
    {"huge back-reference", R"({"rules": [{"match": "a\\3333333333333333333", "format": "keep"}]})",
     "back-reference number over 99"},
    {"tensor entry not object", R"({"tensors": {"w": "int8"}})", "tensor 'w' is not an object"},
    {"locked not an array", R"({"locked": "w"})", "\"locked\" is not an array"},
    {"locked holds a number", R"({"locked": ["w", 3]})", "other than a tensor name"},
};

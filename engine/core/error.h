// The engine's one exception type, and the signal used to abandon cancelled work.
#pragma once

#include <stdexcept>
#include <string>

namespace qs {

// Thrown at the engine boundary with a message a user can act on: which file, what is
// wrong, and where (tensor, byte offset) when that applies.
class Error : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Thrown from inside a computation when its cancel check reports true; never reaches a user.
class Cancelled : public std::exception
{
public:
    const char* what() const noexcept override { return "cancelled"; }
};

} // namespace qs

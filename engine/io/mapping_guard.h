// Survives a mapped file that shrinks while it is read.
//
// Another program may truncate or rewrite a model file while QuantScope has it mapped; touching
// a page past the new end of the file then raises SIGBUS, which would kill the process. Every
// MappedFile registers its range here. A SIGBUS inside a registered range replaces the rest of
// that mapping with zero pages (so the faulting read completes) and marks the mapping damaged;
// the operation that read it checks the mark afterwards (Model::checkIntact) and reports an
// error naming the file instead of a result computed from zeros. A SIGBUS anywhere else is
// passed on to the handler that was installed before.
#pragma once

#include <cstddef>

namespace qs::mapping_guard {

// Returns a slot for the range, or -1 when every slot is taken (the range is then unguarded).
int add(const void* begin, std::size_t size);
void remove(int slot);
// True once a read inside the slot's range hit a missing page.
bool damaged(int slot);

} // namespace qs::mapping_guard

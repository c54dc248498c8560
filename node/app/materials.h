// Inside the application layer: material lists as a person types them,
// "身份证", "身份证:later", "身份证:provided:copy". Used by submit and act.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/records.capnp.h"

namespace liandong::app {

std::optional<proto::MaterialState> material_state(std::string_view s);

// Fills `out` from `in`; `dflt` is the state of a material that names none.
// Bad input throws AppError: call only inside an operation.
void fill_materials(capnp::List<proto::Material>::Builder out, const std::vector<std::string>& in,
                    proto::MaterialState dflt);

}  // namespace liandong::app

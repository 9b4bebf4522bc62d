// What an actor call threw, as "<kind>: <what>", for tests that compare
// error kinds and messages.
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "corio/actors/actor.hpp"

namespace corio_test {

inline std::string describe_actor_error(std::exception_ptr error) {
    namespace actors = corio::actors;
    try {
        std::rethrow_exception(error);
    } catch (const actors::NotOwner& e) {
        return std::string("NotOwner: ") + e.what();
    } catch (const actors::ActorNotFound& e) {
        return std::string("ActorNotFound: ") + e.what();
    } catch (const actors::ActorArgumentError& e) {
        return std::string("ActorArgumentError: ") + e.what();
    } catch (const actors::ActorMethodError& e) {
        return std::string("ActorMethodError: ") + e.what();
    } catch (const actors::ActorUnavailable& e) {
        return std::string("ActorUnavailable: ") + e.what();
    }
}

inline bool starts_with(const std::string& s, std::string_view prefix) {
    return s.rfind(prefix, 0) == 0;
}

}  // namespace corio_test

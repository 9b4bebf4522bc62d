// corio/detail/callback.hpp - move-only type-erased callables with inline storage.
//
// std::function needs copyable targets and C++23's move_only_function is not in
// GCC 12, so the loop stores its callbacks in this. Targets up to kInline bytes
// (and nothrow-movable) live inside the object; larger ones go to the heap.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace corio::detail {

template <class Sig>
class Function;

template <class R, class... Args>
class Function<R(Args...)> {
public:
    static constexpr std::size_t kInline = 32;

    Function() noexcept = default;

    template <class F, class D = std::decay_t<F>,
              class = std::enable_if_t<!std::is_same_v<D, Function> &&
                                       std::is_invocable_r_v<R, D&, Args...>>>
    Function(F&& f) {  // NOLINT(google-explicit-constructor): used like std::function
        if constexpr (fits_inline<D>()) {
            ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
            ops_ = &inline_ops<D>;
        } else {
            *reinterpret_cast<D**>(storage_) = new D(std::forward<F>(f));
            ops_ = &heap_ops<D>;
        }
    }

    Function(Function&& other) noexcept : ops_(other.ops_) {
        if (ops_) {
            ops_->move(other.storage_, storage_);
            other.ops_ = nullptr;
        }
    }

    Function& operator=(Function&& other) noexcept {
        if (this != &other) {
            reset();
            ops_ = other.ops_;
            if (ops_) {
                ops_->move(other.storage_, storage_);
                other.ops_ = nullptr;
            }
        }
        return *this;
    }

    Function(const Function&) = delete;
    Function& operator=(const Function&) = delete;
    ~Function() { reset(); }

    explicit operator bool() const noexcept { return ops_ != nullptr; }

    R operator()(Args... args) { return ops_->call(storage_, std::forward<Args>(args)...); }

    void reset() noexcept {
        if (ops_) {
            ops_->destroy(storage_);
            ops_ = nullptr;
        }
    }

private:
    struct Ops {
        R (*call)(void*, Args&&...);
        void (*move)(void* from, void* to) noexcept;
        void (*destroy)(void*) noexcept;
    };

    template <class D>
    static constexpr bool fits_inline() {
        return sizeof(D) <= kInline && alignof(D) <= alignof(std::max_align_t) &&
               std::is_nothrow_move_constructible_v<D>;
    }

    template <class D>
    static constexpr Ops inline_ops = {
        [](void* s, Args&&... args) -> R {
            return (*std::launder(static_cast<D*>(s)))(std::forward<Args>(args)...);
        },
        [](void* from, void* to) noexcept {
            D* f = std::launder(static_cast<D*>(from));
            ::new (to) D(std::move(*f));
            f->~D();
        },
        [](void* s) noexcept { std::launder(static_cast<D*>(s))->~D(); },
    };

    template <class D>
    static constexpr Ops heap_ops = {
        [](void* s, Args&&... args) -> R {
            return (**static_cast<D**>(s))(std::forward<Args>(args)...);
        },
        [](void* from, void* to) noexcept { *static_cast<D**>(to) = *static_cast<D**>(from); },
        [](void* s) noexcept { delete *static_cast<D**>(s); },
    };

    alignas(std::max_align_t) unsigned char storage_[kInline];
    const Ops* ops_ = nullptr;
};

/// What the loop runs: a move-only `void()`.
using Callback = Function<void()>;

}  // namespace corio::detail

// The actor runtime: activations, turns, state saving, timers, reminders,
// idle deactivation, and routing through placement to other processes.
//
// An activation is one live actor: its object, its state cache, and a FIFO
// corio::Lock that is its turn. A call takes the turn in the caller's own
// task (no task per call), runs the method, saves the state changes and
// passes the turn on. While a turn is held the activation keeps itself
// alive (`keep`), so deactivation or a lost lease can drop it from the map
// without pulling it from under a running method.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "corio/actors/actor.hpp"
#include "corio/contextvars.hpp"
#include "corio/locks.hpp"
#include "corio/timeouts.hpp"

namespace corio::actors {

namespace {

// The reentrancy call chain of the running turn, as Dapr's
// Dapr-Reentrancy-Id: set by the first turn of a chain, seen by the calls
// it makes.
ContextVar<std::string>& chain_var() {
    static ContextVar<std::string> var("corio.actors.call_chain", std::string());
    return var;
}

std::string new_chain_id() {
    static std::atomic<std::uint64_t> counter{0};
    static const std::uint64_t salt = std::random_device{}();
    char buf[40];
    std::snprintf(buf, sizeof buf, "%016llx-%llu", static_cast<unsigned long long>(salt),
                  static_cast<unsigned long long>(++counter));
    return buf;
}

std::int64_t to_ms(Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

namespace detail {

struct TimerEntry {
    TimerHandle handle;
    std::function<Task<void>(Json)> callback;
    Duration period{};
    Json data;
    std::uint64_t generation = 0;
};

struct Activation {
    Runtime* rt = nullptr;
    const TypeInfo* type = nullptr;
    ActorId id;
    std::unique_ptr<Actor> actor;
    StateManager state;
    Lock turn;
    bool activated = false;                         // on_activate has run
    bool dead = false;                              // deactivated or dropped: calls go elsewhere
    int depth = 0;                                  // turns held by one call chain (reentrancy)
    std::string chain;                              // that chain
    std::optional<Token<std::string>> chain_token;  // set by this turn
    std::uint64_t last_scan = 0;       // the idle scan during which the last turn ended
    std::shared_ptr<Activation> keep;  // held while a turn is
    std::unordered_map<std::string, TimerEntry> timers;
    std::unordered_map<std::string, Json>* table = nullptr;  // in the MemoryStore
    std::uint64_t timer_generation = 0;
};

Actor& actor_of(Activation* a) noexcept {
    return *a->actor;
}

namespace {

// The turn is ours (taken from `turn`): it keeps the activation alive.
Activation* begin_turn(std::shared_ptr<Activation> sp) {
    sp->depth = 1;
    Activation* a = sp.get();
    a->keep = std::move(sp);
    return a;
}

void cancel_timers(Activation& a) {
    for (auto& [name, t] : a.timers)
        t.handle.cancel();
    a.timers.clear();
}

// Dropped without saving: calls go elsewhere from now on.
void drop(Activation& a) {
    a.dead = true;
    cancel_timers(a);
}

// A background failure nobody awaits: said on stderr, as asyncio's loop
// exception handler would.
void log_failure(const std::string& what, std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio::actors: %s: %s\n", what.c_str(), e.what());
    } catch (...) {
        std::fprintf(stderr, "corio::actors: %s\n", what.c_str());
    }
}

}  // namespace

struct RuntimeImpl {
    RuntimeOptions options;
    std::unordered_map<std::string, std::unique_ptr<TypeInfo>, StringHash, std::equal_to<>> types;
    std::unordered_map<ActorId, std::shared_ptr<Activation>, ActorIdHash> active;
    MemoryStore* memory = nullptr;  // options.state_store when it is one
    std::shared_ptr<MemoryStore> own_memory;
    RuntimeStats stats;
    bool started = false;
    bool stopping = false;
    EventLoop* loop = nullptr;
    std::optional<TaskHandle<void>> sweeper;
    std::optional<TaskHandle<void>> reminder_poller;
    std::shared_ptr<Event> reminder_wake;
    std::uint64_t scans = 0;     // idle scans so far
    std::size_t background = 0;  // timer and reminder deliveries in flight
    Event background_idle;       // set when `background` drops to zero

    void background_done() {
        if (--background == 0)
            background_idle.set();
    }
    // Counts a timer or reminder delivery out when it ends.
    struct BackgroundDone {
        RuntimeImpl* impl;
        ~BackgroundDone() { impl->background_done(); }
    };

    EventLoop& bind_loop() {
        if (!loop)
            loop = &get_running_loop();
        return *loop;
    }
    // Reminder time: the wall clock, except on a virtual-time loop, whose
    // clock is the loop's (its epoch is the loop's start), so that reminders
    // are due in virtual time and every runtime on that loop agrees.
    EpochMs now_ms() {
        EventLoop& l = bind_loop();
        if (l.virtual_time())
            return to_ms(l.time().time_since_epoch());
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }

    // Runtime's private parts, for the free functions of this file.
    static RuntimeImpl& of(Runtime& rt) { return *rt.impl_; }
    static bool end_sync(Runtime& rt, Activation* a, bool ok) { return rt.end_turn_sync(a, ok); }
    static Task<void> end_async(Runtime& rt, Activation* a) { return rt.end_turn_async(a); }
    static Task<void> remind(Runtime& rt, const Reminder& r, Duration due) {
        return rt.forward_reminder(r, due);
    }
};

}  // namespace detail

using detail::Activation;

// ---------------------------------------------------------------- StateManager

const std::optional<Json>* StateManager::cached(const std::string& key) const {
    auto it = slots_.find(key);
    if (it != slots_.end())
        return &it->second.value;
    if (auto* table = owner_->table) {
        // The in-memory store answers without suspending: fill the cache now.
        auto v = table->find(key);
        auto& self = const_cast<StateManager&>(*this);
        auto [slot, _] = self.slots_.emplace(
            key, Slot{v != table->end() ? std::optional<Json>(v->second) : std::nullopt});
        return &slot->second.value;
    }
    return nullptr;
}

Task<const std::optional<Json>*> StateManager::load(std::string key) {
    auto* impl = owner_->rt->impl_.get();
    std::optional<Json> v = co_await impl->options.state_store->get(owner_->id, key);
    // Another read of the same key may have filled the slot meanwhile.
    auto [slot, _] = slots_.try_emplace(std::move(key), Slot{std::move(v)});
    co_return &slot->second.value;
}

Task<bool> StateManager::contains(std::string key) {
    const std::optional<Json>* v = cached(key);
    if (!v)
        v = co_await load(std::move(key));
    co_return v->has_value();
}

void StateManager::set_json(std::string key, Json value) {
    auto& slot = slots_[std::move(key)];
    slot.value = std::move(value);
    slot.changed = true;
    dirty_ = true;
}

void StateManager::remove(std::string key) {
    auto& slot = slots_[std::move(key)];
    slot.value.reset();
    slot.changed = true;
    dirty_ = true;
}

template <class F>
void StateManager::drain_changes(F&& f) {
    for (auto& [key, slot] : slots_) {
        if (!slot.changed)
            continue;
        slot.changed = false;
        f(key, slot.value);
    }
    dirty_ = false;
}

Task<void> StateManager::save() {
    if (!dirty_)
        co_return;
    std::vector<StateOp> ops;
    drain_changes([&ops](const std::string& key, const std::optional<Json>& value) {
        if (value)
            ops.push_back(StateOp{StateOp::Kind::upsert, key, *value});
        else
            ops.push_back(StateOp{StateOp::Kind::remove, key, Json()});
    });
    auto* impl = owner_->rt->impl_.get();
    std::exception_ptr error;
    try {
        co_await impl->options.state_store->apply(owner_->id, std::move(ops));
    } catch (...) {
        error = std::current_exception();
    }
    if (error) {
        // What the store holds is unknown now: read it again next time.
        clear_cache();
        std::rethrow_exception(error);
    }
}

void StateManager::clear_cache() noexcept {
    slots_.clear();
    dirty_ = false;
}

// ---------------------------------------------------------------- Actor

Task<void> Actor::receive_reminder(std::string name, Json, Duration, Duration) {
    throw ActorNotFound(id_.str() + ": a reminder '" + name +
                        "' fired, but the actor does not override receive_reminder");
    co_return;
}

namespace {

Task<void> run_timer(std::shared_ptr<Activation> a, std::string name, std::uint64_t generation);

void arm_timer(const std::shared_ptr<Activation>& a, const std::string& name, Duration delay) {
    auto& entry = a->timers.at(name);
    entry.handle.cancel();  // a timer fired early (Dapr's PUT .../timer) is armed still
    std::weak_ptr<Activation> weak = a;
    std::uint64_t generation = entry.generation;
    entry.handle =
        detail::RuntimeImpl::of(*a->rt).bind_loop().call_later(delay, [weak, name, generation] {
            if (auto sp = weak.lock(); sp && !sp->dead) {
                ++detail::RuntimeImpl::of(*sp->rt).background;
                create_task(run_timer(std::move(sp), name, generation), "actor timer " + name);
            }
        });
}

Task<void> run_timer(std::shared_ptr<Activation> a, std::string name, std::uint64_t generation) {
    auto* impl = &detail::RuntimeImpl::of(*a->rt);
    detail::RuntimeImpl::BackgroundDone done{impl};
    co_await a->turn.acquire();
    auto it = a->timers.find(name);
    if (a->dead || it == a->timers.end() || it->second.generation != generation) {
        a->turn.release();
        co_return;
    }
    detail::begin_turn(a);
    auto callback = it->second.callback;
    Json data = it->second.data;
    Duration period = it->second.period;
    std::exception_ptr error;
    try {
        co_await callback(std::move(data));
    } catch (...) {
        error = std::current_exception();
    }
    // Periodic timers come back after each callback; a one-shot one is gone.
    it = a->timers.find(name);
    if (it != a->timers.end() && it->second.generation == generation) {
        if (period > Duration::zero() && !a->dead)
            arm_timer(a, name, period);
        else {
            it->second.handle.cancel();
            a->timers.erase(it);
        }
    }
    if (error)
        detail::log_failure("timer '" + name + "' of " + a->id.str(), error);
    if (!detail::RuntimeImpl::end_sync(*a->rt, a.get(), !error))
        co_await detail::RuntimeImpl::end_async(*a->rt, a.get());
}

}  // namespace

void Actor::register_timer(std::string name, std::function<Task<void>(Json)> callback, Duration due,
                           Duration period, Json data) {
    if (!activation_)
        throw RuntimeError("register_timer: the actor is not active");
    auto& entry = activation_->timers[name];
    entry.handle.cancel();
    entry.callback = std::move(callback);
    entry.period = period;
    entry.data = std::move(data);
    entry.generation = ++activation_->timer_generation;
    arm_timer(activation_->keep ? activation_->keep : runtime_->impl_->active.at(activation_->id),
              name, due);
}

void Actor::unregister_timer(const std::string& name) {
    if (!activation_)
        return;
    auto it = activation_->timers.find(name);
    if (it == activation_->timers.end())
        return;
    it->second.handle.cancel();
    activation_->timers.erase(it);
}

Task<void> Actor::register_reminder(std::string name, Json data, Duration due, Duration period) {
    auto* impl = runtime_->impl_.get();
    Reminder r;
    r.actor = id_;
    r.name = std::move(name);
    r.data = std::move(data);
    r.due = impl->now_ms() + to_ms(due);
    r.period_ms = to_ms(period);
    co_await impl->options.reminder_store->upsert(std::move(r));
    if (impl->reminder_wake)
        impl->reminder_wake->set();
}

Task<void> Actor::unregister_reminder(std::string name) {
    co_await runtime_->impl_->options.reminder_store->remove(id_, std::move(name));
}

// ---------------------------------------------------------------- Runtime

Runtime::Runtime(RuntimeOptions options) : impl_(std::make_unique<detail::RuntimeImpl>()) {
    if (options.idle_timeout <= Duration::zero() || options.scan_interval <= Duration::zero())
        throw std::invalid_argument(
            "RuntimeOptions: idle_timeout and scan_interval must be positive");
    if (static_cast<bool>(options.placement) != static_cast<bool>(options.remote))
        throw std::invalid_argument("RuntimeOptions: placement and remote go together");
    if (!options.state_store || !options.reminder_store) {
        impl_->own_memory = std::make_shared<MemoryStore>();
        if (!options.state_store)
            options.state_store = impl_->own_memory;
        if (!options.reminder_store)
            options.reminder_store = impl_->own_memory;
    }
    impl_->memory = dynamic_cast<MemoryStore*>(options.state_store.get());
    impl_->options = std::move(options);
}

Runtime::~Runtime() {
    if (impl_->options.placement)
        impl_->options.placement->on_lease_lost = nullptr;
    if (impl_->sweeper)
        impl_->sweeper->cancel();
    if (impl_->reminder_poller)
        impl_->reminder_poller->cancel();
    for (auto& [id, a] : impl_->active)
        detail::drop(*a);
}

detail::TypeInfo* Runtime::add_type(std::string name) {
    if (name.empty())
        throw std::invalid_argument("register_actor: empty type name");
    if (impl_->types.count(name))
        throw RuntimeError("register_actor: type '" + name + "' is registered already");
    auto info = std::make_unique<detail::TypeInfo>();
    info->name = name;
    auto* raw = info.get();
    impl_->types.emplace(std::move(name), std::move(info));
    return raw;
}

const detail::TypeInfo* Runtime::find_type(std::string_view name) const {
    auto it = impl_->types.find(name);
    return it == impl_->types.end() ? nullptr : it->second.get();
}

std::vector<std::string> Runtime::types() const {
    std::vector<std::string> out;
    for (const auto& [name, info] : impl_->types)
        out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

const RuntimeOptions& Runtime::options() const noexcept {
    return impl_->options;
}

RuntimeStats Runtime::stats() const noexcept {
    RuntimeStats s = impl_->stats;
    s.active = impl_->active.size();
    return s;
}

bool Runtime::is_active(const ActorId& actor) const {
    return impl_->active.count(actor) != 0;
}

std::string Runtime::current_call_chain() {
    return chain_var().get();
}

ActorProxy Runtime::proxy(std::string type, std::string id) {
    if (id.empty())
        throw std::invalid_argument("proxy: empty actor id");
    const detail::TypeInfo* info = find_type(type);
    return ActorProxy(this, info, ActorId{std::move(type), std::move(id)});
}

void Runtime::throw_no_method(const ActorId& actor, std::string_view method) const {
    throw ActorNotFound(actor.str() + ": no method '" + std::string(method) + "'");
}

Activation* Runtime::try_enter_now(const ActorId& actor, std::weak_ptr<Activation>& cache) {
    auto* impl = impl_.get();
    if (impl->options.reentrancy)
        return nullptr;
    std::shared_ptr<Activation> sp = cache.lock();
    if (!sp || sp->dead) {
        auto it = impl->active.find(actor);
        if (it == impl->active.end())
            return nullptr;
        sp = it->second;
        cache = sp;
    }
    if (!sp->activated || !sp->turn.try_acquire())
        return nullptr;
    ++impl->stats.local_calls;
    return detail::begin_turn(std::move(sp));
}

Task<Activation*> Runtime::enter(const detail::TypeInfo& type, const ActorId& actor, bool forwarded,
                                 std::weak_ptr<Activation>* cache) {
    auto* impl = impl_.get();
    impl->bind_loop();
    bool placed = !impl->options.placement;  // without placement, everything is here
    for (;;) {
        auto it = impl->active.find(actor);
        if (it != impl->active.end()) {
            std::shared_ptr<Activation> sp = it->second;
            if (cache)
                *cache = sp;
            std::string chain;
            if (impl->options.reentrancy) {
                chain = chain_var().get();
                if (sp->depth > 0 && !chain.empty() && sp->chain == chain) {
                    ++sp->depth;  // the chain holds this actor's turn already
                    ++impl->stats.local_calls;
                    co_return sp.get();
                }
            }
            co_await sp->turn.acquire();
            if (sp->dead) {
                // Deactivated or dropped (a lost lease) while we waited: ask
                // placement again before activating it here.
                sp->turn.release();
                placed = !impl->options.placement;
                continue;
            }
            detail::begin_turn(sp);
            ++impl->stats.local_calls;
            if (impl->options.reentrancy) {
                if (chain.empty()) {
                    chain = new_chain_id();
                    sp->chain_token.emplace(chain_var().set(chain));
                }
                sp->chain = std::move(chain);
            }
            if (!sp->activated) {
                std::exception_ptr error;
                try {
                    co_await sp->actor->on_activate();
                } catch (...) {
                    error = std::current_exception();
                }
                if (error) {
                    // Not activated: drop it; the next call tries afresh.
                    detail::drop(*sp);
                    if (auto cur = impl->active.find(actor);
                        cur != impl->active.end() && cur->second == sp)
                        impl->active.erase(cur);
                    sp->state.clear_cache();
                    end_turn_sync(sp.get(), false);
                    if (impl->options.placement)
                        co_await impl->options.placement->release(actor);
                    std::rethrow_exception(error);
                }
                sp->activated = true;
            }
            co_return sp.get();
        }
        if (!placed) {
            Placement& placement = *impl->options.placement;
            std::string owner = co_await placement.locate(actor);
            if (owner != placement.self()) {
                if (forwarded)
                    throw NotOwner(actor.str() + " is hosted by " + owner);
                co_return nullptr;
            }
            placed = true;
            continue;  // the map may have changed while locate() was suspended
        }
        if (impl->stopping)
            throw ActorUnavailable(actor.str() + ": the runtime is stopping");
        auto sp = std::make_shared<Activation>();
        sp->rt = this;
        sp->type = &type;
        sp->id = actor;
        sp->actor = type.factory();
        sp->actor->id_ = actor;
        sp->actor->runtime_ = this;
        sp->actor->activation_ = sp.get();
        sp->actor->state_ = &sp->state;
        sp->state.owner_ = sp.get();
        if (impl->memory)
            sp->table = &impl->memory->table(actor);
        impl->active.emplace(actor, std::move(sp));
        ++impl->stats.activations;
    }
}

bool Runtime::end_turn_sync(Activation* a, bool ok) {
    auto* impl = impl_.get();
    if (a->depth > 1) {
        --a->depth;  // a reentrant call: the chain's first turn saves
        return true;
    }
    // Dropped while the turn ran (its lease was lost): another process may
    // own the actor now, so the turn's changes must not be saved - and the
    // caller must not take them as done.
    const bool lost = ok && a->dead && a->state.dirty();
    if (!ok || a->dead) {
        a->state.clear_cache();
    } else if (a->state.dirty()) {
        if (!a->table)
            return false;
        // In memory: straight into the actor's table, no transaction needed.
        a->state.drain_changes(
            [table = a->table](const std::string& key, const std::optional<Json>& value) {
                if (value)
                    (*table)[key] = *value;
                else
                    table->erase(key);
            });
    }
    a->depth = 0;
    a->chain.clear();
    std::optional<Token<std::string>> token = std::move(a->chain_token);
    a->chain_token.reset();
    a->last_scan = impl->scans;
    ActorId id = lost ? a->id : ActorId{};
    {
        auto keep = std::move(a->keep);  // may be the last reference
        a->turn.release();
    }
    if (token) {
        try {
            chain_var().reset(*token);
        } catch (const std::exception&) {
            // The chain's first turn ended in another task (a task spawned
            // inside it outlived it): that task's context keeps the value.
        }
    }
    if (lost)
        throw ActorUnavailable(id.str() +
                               ": this process lost the actor while the call ran; its "
                               "changes were not saved");
    return true;
}

Task<void> Runtime::end_turn_async(Activation* a) {
    std::exception_ptr error;
    for (;;) {
        if (a->dead) {
            end_turn_sync(a, true);  // throws: the changes are not saved
            co_return;
        }
        try {
            co_await a->state.save();
        } catch (...) {
            error = std::current_exception();
        }
        // Something may have changed the state again while it was saved (a
        // reentrant call of the chain): save again until nothing is left.
        if (error || end_turn_sync(a, true))
            break;
    }
    if (error) {
        end_turn_sync(a, false);
        std::rethrow_exception(error);
    }
}

namespace {

// Runs a JSON call on a turn that the caller holds, then ends the turn.
Task<Json> run_json_turn(Runtime& rt, Activation* a, const detail::MethodBase& m, Json body,
                         std::string_view method) {
    std::optional<Json> result;
    std::exception_ptr error;
    try {
        result.emplace(co_await m.call_json(detail::actor_of(a), std::move(body), method));
    } catch (...) {
        error = std::current_exception();
    }
    if (!detail::RuntimeImpl::end_sync(rt, a, !error))
        co_await detail::RuntimeImpl::end_async(rt, a);
    if (error)
        std::rethrow_exception(error);
    co_return std::move(*result);
}

}  // namespace

Task<Json> Runtime::invoke_local(ActorId actor, std::string_view method, Json body,
                                 std::string call_chain) {
    const detail::TypeInfo* type = find_type(actor.type);
    if (!type)
        throw ActorNotFound("no actor type '" + actor.type + "' is registered here");
    const detail::MethodBase* m = type->find(method);
    if (!m)
        throw_no_method(actor, method);
    std::optional<Token<std::string>> token;
    if (!call_chain.empty() && impl_->options.reentrancy)
        token.emplace(chain_var().set(std::move(call_chain)));
    std::exception_ptr error;
    std::optional<Json> result;
    try {
        Activation* a = co_await enter(*type, actor, true);
        result.emplace(co_await run_json_turn(*this, a, *m, std::move(body), method));
    } catch (...) {
        error = std::current_exception();
    }
    if (token)
        chain_var().reset(*token);
    if (error)
        std::rethrow_exception(error);
    co_return std::move(*result);
}

Task<void> Runtime::invoke_timer_local(ActorId actor, std::string name) {
    auto it = impl_->active.find(actor);
    if (it == impl_->active.end() || !it->second->timers.count(name))
        throw ActorNotFound(actor.str() + ": no timer '" + name + "'");
    auto sp = it->second;
    ++impl_->background;  // run_timer counts itself out
    co_await run_timer(sp, name, sp->timers.at(name).generation);
}

Task<void> Runtime::invoke_reminder_local(ActorId actor, std::string name, Json data, Duration due,
                                          Duration period) {
    const detail::TypeInfo* type = find_type(actor.type);
    if (!type)
        throw ActorNotFound("no actor type '" + actor.type + "' is registered here");
    Activation* a = co_await enter(*type, actor, true);
    std::exception_ptr error;
    try {
        co_await detail::actor_of(a).receive_reminder(std::move(name), std::move(data), due,
                                                      period);
    } catch (...) {
        error = std::current_exception();
    }
    if (!end_turn_sync(a, !error))
        co_await end_turn_async(a);
    if (error)
        std::rethrow_exception(error);
    ++impl_->stats.reminders_fired;
}

namespace {

Task<Json> null_after(Task<void> t) {
    co_await std::move(t);
    co_return Json();
}

}  // namespace

Task<Json> Runtime::route(const ActorId& actor, const std::function<Task<Json>()>& here,
                          const std::function<Task<Json>(const std::string&)>& there) {
    auto* impl = impl_.get();
    Placement& placement = *impl->options.placement;
    EventLoop& loop = impl->bind_loop();
    const TimePoint deadline = loop.time() + impl->options.placement_timeout;
    std::optional<std::string> stale;
    Duration backoff = std::chrono::milliseconds(10);
    const bool can_host = find_type(actor.type) != nullptr;
    for (;;) {
        std::string owner = co_await placement.locate(actor, stale, can_host);
        if (owner == placement.self())
            co_return co_await here();  // ours after all (it moved here, or a stale owner lapsed)
        std::string why;
        try {
            co_return co_await there(owner);
        } catch (const NotOwner& e) {
            // It moved: ask placement again, without the old answer.
            why = e.what();
        } catch (const ActorUnavailable& e) {
            why = e.what();
        }
        stale = owner;
        // The owner is gone or unreachable (its lease has to lapse before
        // placement gives the actor to another process), or placements
        // disagree for a moment: try again, backing off, until the deadline.
        if (loop.time() + backoff > deadline)
            throw ActorUnavailable(actor.str() + ": " + why);
        co_await sleep(backoff);
        backoff = std::min<Duration>(backoff * 2, std::chrono::seconds(1));
    }
}

Task<Json> Runtime::forward(const ActorId& actor, std::string method, Json body) {
    auto* impl = impl_.get();
    if (!impl->options.placement)
        throw ActorNotFound("no actor type '" + actor.type + "' is registered here");
    const std::string chain = chain_var().get();
    co_return co_await route(
        actor, [&] { return invoke_local(actor, method, body, chain); },
        [&](const std::string& owner) {
            ++impl->stats.forwarded_calls;
            return impl->options.remote->invoke(owner, actor, method, body, chain);
        });
}

Task<void> Runtime::forward_reminder(const Reminder& r, Duration due) {
    const Duration period = std::chrono::milliseconds(r.period_ms);
    auto here = [&] {
        return null_after(invoke_reminder_local(r.actor, r.name, r.data, due, period));
    };
    if (!impl_->options.placement) {
        co_await here();
        co_return;
    }
    co_await route(r.actor, here, [&](const std::string& owner) {
        Json body = {{"data", r.data},
                     {"dueTime", std::to_string(to_ms(due)) + "ms"},
                     {"period", std::to_string(r.period_ms) + "ms"}};
        return null_after(impl_->options.remote->remind(owner, r.actor, r.name, std::move(body)));
    });
}

Task<Json> ActorProxy::call_json(std::string method, Json body) const {
    if (!rt_)
        throw RuntimeError("ActorProxy: empty proxy");
    if (type_) {
        const detail::MethodBase* m = type_->find(method);
        if (!m)
            rt_->throw_no_method(id_, method);
        Activation* a = co_await rt_->enter(*type_, id_);
        if (a)
            co_return co_await run_json_turn(*rt_, a, *m, std::move(body), method);
    }
    co_return co_await rt_->forward(id_, std::move(method), std::move(body));
}

// ---------------------------------------------------------------- lifecycle

namespace {

// Deactivates one activation as its last turn: on_deactivate, save, drop.
// Cleans up whatever happens; a cancellation is passed on at the end.
Task<bool> deactivate_one(Runtime& rt, detail::RuntimeImpl& impl, std::shared_ptr<Activation> sp) {
    co_await sp->turn.acquire();
    if (sp->dead) {
        sp->turn.release();
        co_return false;
    }
    detail::begin_turn(sp);
    std::exception_ptr error;
    std::exception_ptr cancelled;
    if (sp->activated) {
        try {
            co_await sp->actor->on_deactivate();
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        } catch (...) {
            error = std::current_exception();
        }
    }
    detail::cancel_timers(*sp);
    // Dropped meanwhile (a lost lease): nothing of it may be saved or
    // released, another process may own the actor now.
    const bool dropped = sp->dead;
    if (!error && !cancelled && !dropped && sp->state.dirty()) {
        try {
            co_await sp->state.save();
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        } catch (...) {
            error = std::current_exception();
        }
    }
    sp->dead = true;
    if (auto cur = impl.active.find(sp->id); cur != impl.active.end() && cur->second == sp)
        impl.active.erase(cur);
    ++impl.stats.deactivations;
    ActorId id = sp->id;
    detail::RuntimeImpl::end_sync(rt, sp.get(), false);
    if (impl.options.placement && !dropped) {
        try {
            co_await impl.options.placement->release(id);
        } catch (const CancelledError&) {
            cancelled = std::current_exception();
        } catch (...) {
            // The lease lapses by itself.
        }
    }
    if (error)
        detail::log_failure("deactivating " + id.str(), error);
    if (cancelled)
        std::rethrow_exception(cancelled);
    co_return true;
}

Task<void> sweep_idle(Runtime& rt, detail::RuntimeImpl& impl) {
    const auto& o = impl.options;
    const auto idle_scans = static_cast<std::uint64_t>(
        (o.idle_timeout + o.scan_interval - Duration(1)) / o.scan_interval);
    for (;;) {
        co_await sleep(impl.options.scan_interval);
        // Idle: no turn ended during the last `idle_scans` scan intervals,
        // so idle at least idle_timeout (and at most two intervals more).
        // Counting scans spares every turn a clock reading.
        const std::uint64_t scan = ++impl.scans;
        std::vector<std::shared_ptr<Activation>> idle;
        for (auto& [id, a] : impl.active)
            if (!a->turn.locked() && a->depth == 0 && scan - a->last_scan > idle_scans)
                idle.push_back(a);
        for (auto& a : idle)
            co_await deactivate_one(rt, impl, std::move(a));
    }
}

Task<void> deliver_reminder(Runtime& rt, detail::RuntimeImpl& impl, Reminder r) {
    detail::RuntimeImpl::BackgroundDone done{&impl};
    const EpochMs fired_at = impl.now_ms();
    bool ok = false;
    try {
        const Duration due = std::chrono::milliseconds(std::max<EpochMs>(0, r.due - fired_at));
        co_await detail::RuntimeImpl::remind(rt, r, due);
        ok = true;
    } catch (...) {
        detail::log_failure("reminder '" + r.name + "' of " + r.actor.str() + " not delivered",
                            std::current_exception());
    }
    ReminderStore& store = *impl.options.reminder_store;
    try {
        if (ok)
            co_await store.complete(r, fired_at);
        else
            co_await store.release(r, impl.now_ms() + 1000);  // again in a second
    } catch (...) {
        // The claim lapses by itself and the reminder fires again.
    }
}

Task<void> poll_reminders(Runtime& rt, detail::RuntimeImpl& impl, std::shared_ptr<Event> wake) {
    ReminderStore& store = *impl.options.reminder_store;
    const std::int64_t lease = to_ms(impl.options.reminder_lease);
    constexpr std::size_t batch = 64;
    for (;;) {
        std::size_t claimed = 0;
        try {
            auto due = co_await store.claim_due(impl.now_ms(), lease, batch);
            claimed = due.size();
            for (auto& r : due) {
                ++impl.background;
                create_task(deliver_reminder(rt, impl, std::move(r)), "actor reminder");
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "corio::actors: polling reminders: %s\n", e.what());
        }
        if (claimed == batch)
            continue;
        Duration wait = impl.options.reminder_poll;
        try {
            if (auto next = co_await store.next_due()) {
                Duration until =
                    std::chrono::milliseconds(std::max<EpochMs>(0, *next - impl.now_ms()));
                wait = std::min(wait, until);
            }
        } catch (const std::exception&) {
            // Not CancelledError: stop() cancels this task and awaits it.
        }
        wake->clear();
        if (wait > Duration::zero()) {
            try {
                co_await wait_for(wake->wait(), wait);
            } catch (const TimeoutError&) {
            }
        }
    }
}

}  // namespace

Task<void> Runtime::start() {
    auto* impl = impl_.get();
    if (impl->started)
        co_return;
    impl->bind_loop();
    if (impl->options.placement) {
        impl->options.placement->on_lease_lost = [impl] {
            // Another process may own these actors now: drop them unsaved.
            for (auto& [id, a] : impl->active)
                detail::drop(*a);
            impl->active.clear();
        };
        impl->options.placement->set_hosted_types(types());
        co_await impl->options.placement->start();  // may throw: start() again then
    }
    impl->started = true;
    impl->reminder_wake = std::make_shared<Event>();
    impl->sweeper = create_task(sweep_idle(*this, *impl), "actors idle sweeper");
    impl->reminder_poller =
        create_task(poll_reminders(*this, *impl, impl->reminder_wake), "actors reminders");
}

Task<bool> Runtime::deactivate(ActorId actor) {
    auto it = impl_->active.find(actor);
    if (it == impl_->active.end())
        co_return false;
    co_return co_await deactivate_one(*this, *impl_, it->second);
}

Task<void> Runtime::stop() {
    auto* impl = impl_.get();
    if (impl->stopping)
        co_return;
    impl->stopping = true;
    for (auto* t : {&impl->sweeper, &impl->reminder_poller}) {
        if (*t) {
            (*t)->cancel();
            try {
                co_await **t;
            } catch (...) {
            }
            t->reset();
        }
    }
    std::vector<std::shared_ptr<Activation>> all;
    for (auto& [id, a] : impl->active)
        all.push_back(a);
    for (auto& a : all)
        co_await deactivate_one(*this, *impl, std::move(a));
    // Timer callbacks and reminder deliveries still running finish first:
    // they use the stores and the runtime.
    while (impl->background > 0) {
        impl->background_idle.clear();
        co_await impl->background_idle.wait();
    }
    if (impl->options.placement)
        co_await impl->options.placement->stop();
    if (impl->options.remote)
        co_await impl->options.remote->close();
}

}  // namespace corio::actors

// MemoryStore: actor state and reminders in this process's memory.
#include <algorithm>

#include "corio/actors/store.hpp"

namespace corio::actors {

const Json* MemoryStore::find(const ActorId& actor, const std::string& key) const {
    auto a = state_.find(actor);
    if (a == state_.end())
        return nullptr;
    auto v = a->second.find(key);
    return v == a->second.end() ? nullptr : &v->second;
}

void MemoryStore::apply_now(const ActorId& actor, std::vector<StateOp>& ops) {
    auto& kv = state_[actor];
    for (auto& op : ops) {
        if (op.kind == StateOp::Kind::upsert)
            kv.insert_or_assign(std::move(op.key), std::move(op.value));
        else
            kv.erase(op.key);
    }
}

Task<std::optional<Json>> MemoryStore::get(const ActorId& actor, std::string key) {
    const Json* v = find(actor, key);
    co_return v ? std::optional<Json>(*v) : std::nullopt;
}

Task<void> MemoryStore::apply(const ActorId& actor, std::vector<StateOp> ops) {
    apply_now(actor, ops);
    co_return;
}

Task<void> MemoryStore::upsert(Reminder r) {
    r.version = ++versions_;
    auto key = std::make_pair(r.actor, r.name);
    EpochMs due = r.due;
    reminders_.insert_or_assign(std::move(key), Entry{std::move(r), due});
    co_return;
}

Task<void> MemoryStore::remove(const ActorId& actor, std::string name) {
    reminders_.erase(std::make_pair(actor, std::move(name)));
    co_return;
}

Task<std::vector<Reminder>> MemoryStore::claim_due(EpochMs now, std::int64_t lease_ms,
                                                   std::size_t max) {
    std::vector<Reminder> out;
    for (auto& [key, e] : reminders_) {
        if (out.size() >= max)
            break;
        if (e.visible_at <= now) {
            e.visible_at = now + lease_ms;
            out.push_back(e.r);
        }
    }
    co_return out;
}

Task<void> MemoryStore::complete(const Reminder& r, EpochMs fired_at) {
    auto it = reminders_.find(std::make_pair(r.actor, r.name));
    if (it == reminders_.end() || it->second.r.version != r.version)
        co_return;
    if (r.period_ms <= 0) {
        reminders_.erase(it);
        co_return;
    }
    // The next firing after fired_at on the reminder's own schedule.
    EpochMs next = it->second.r.due;
    while (next <= fired_at)
        next += r.period_ms;
    it->second.r.due = next;
    it->second.visible_at = next;
}

Task<void> MemoryStore::release(const Reminder& r, EpochMs retry_at) {
    auto it = reminders_.find(std::make_pair(r.actor, r.name));
    if (it != reminders_.end() && it->second.r.version == r.version)
        it->second.visible_at = retry_at;
    co_return;
}

Task<std::optional<EpochMs>> MemoryStore::next_due() {
    std::optional<EpochMs> best;
    for (const auto& [key, e] : reminders_)
        if (!best || e.visible_at < *best)
            best = e.visible_at;
    co_return best;
}

}  // namespace corio::actors

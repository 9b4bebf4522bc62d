// src/core/gather.cpp - the bookkeeping of gather()'s future (GatherCore).
#include "corio/gather.hpp"

namespace corio::detail {

void gather_child_done(CompletionNode* n, FutureBase& child) {
    static_cast<GatherNode*>(n)->core->child_done(child);
}

void start_gather(GatherCore& core, GatherNode* nodes) {
    core.outer->add_ref();  // the children's completions may finish it here
    for (std::size_t i = 0; i < core.n; ++i) {
        FutureBase& c = *core.children[i];
        if (c.done()) {
            core.child_done(c);
        } else {
            nodes[i].core = &core;
            nodes[i].on_done = &gather_child_done;
            c.add_waiter(nodes[i]);
        }
    }
    if (core.n == 0) {
        core.complete(core.outer);  // gather() of nothing: done at once
    }
    core.outer->release();
}

void GatherCore::mark_children_retrieved() noexcept {
    for (std::size_t i = 0; i < n; ++i) {
        children[i]->mark_retrieved();
    }
}

void GatherCore::child_done(FutureBase& child) {
    ++finished;
    if (outer->done()) {
        child.mark_retrieved();  // asyncio: fut.exception(), so it is not reported
        return;
    }
    if (child.status() == FutureBase::Status::cancelled) {
        last_cancelled = &child;
    }
    if (!settled) {
        if (child.status() == FutureBase::Status::cancelled) {
            mark_children_retrieved();
            outer->set_cancelled(child.error_ptr());
            return;
        }
        if (child.status() == FutureBase::Status::failed) {
            mark_children_retrieved();
            outer->set_exception(child.error_ptr());
            return;
        }
    }
    if (finished < n) {
        return;
    }
    mark_children_retrieved();
    if (cancel_requested) {
        outer->set_cancelled(last_cancelled != nullptr ? last_cancelled->error_ptr()
                                                       : std::make_exception_ptr(CancelledError()));
        return;
    }
    complete(outer);
}

bool GatherCore::cancel_children(std::string_view msg) {
    if (outer->done()) {
        return false;
    }
    FutureRecord* keep = outer;
    keep->add_ref();  // a child's completion may finish (and release) it meanwhile
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) {
        if (children[i]->cancel(msg)) {
            any = true;
        }
    }
    if (any) {
        cancel_requested = true;
    }
    keep->release();
    return any;
}

}  // namespace corio::detail

// corio/detail/intrusive_list.hpp - a circular doubly linked list whose nodes
// live inside the objects they link (awaiters in coroutine frames, task
// records), so linking never allocates and unlinking is O(1).
//
// A node is either unlinked (next == prev == this) or in exactly one list.
// Either side may go first: a node's owner unlinks it when it dies, and a list
// that dies detaches the nodes still in it.
#pragma once

#include <cstddef>

namespace corio::detail {

struct ListNode {
    ListNode* prev = this;
    ListNode* next = this;

    ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;
    ~ListNode() { unlink(); }

    bool linked() const noexcept { return next != this; }

    void unlink() noexcept {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }
};

/// A list of T, where T derives from ListNode (possibly through a tag base
/// when T sits in several lists).
template <class T, class Node = ListNode>
class IntrusiveList {
public:
    IntrusiveList() = default;
    IntrusiveList(const IntrusiveList&) = delete;
    IntrusiveList& operator=(const IntrusiveList&) = delete;
    ~IntrusiveList() { clear(); }

    bool empty() const noexcept { return !head_.linked(); }

    void push_back(T& item) noexcept {
        Node& n = item;
        n.prev = head_.prev;
        n.next = &head_;
        head_.prev->next = &n;
        head_.prev = &n;
    }

    void push_front(T& item) noexcept {
        Node& n = item;
        n.next = head_.next;
        n.prev = &head_;
        head_.next->prev = &n;
        head_.next = &n;
    }

    T& front() noexcept { return static_cast<T&>(static_cast<Node&>(*head_.next)); }
    T& back() noexcept { return static_cast<T&>(static_cast<Node&>(*head_.prev)); }

    /// Unlinks and returns the first item; the list must not be empty.
    T& pop_front() noexcept {
        Node* n = static_cast<Node*>(head_.next);
        n->unlink();
        return static_cast<T&>(*n);
    }

    /// Detaches every node (leaves the items themselves alone).
    void clear() noexcept {
        while (!empty()) {
            head_.next->unlink();
        }
    }

    template <class F>
    void for_each(F&& f) {
        for (ListNode* n = head_.next; n != &head_;) {
            ListNode* next = n->next;
            f(static_cast<T&>(static_cast<Node&>(*n)));
            n = next;
        }
    }

    std::size_t size() const noexcept {
        std::size_t count = 0;
        for (const ListNode* n = head_.next; n != &head_; n = n->next) {
            ++count;
        }
        return count;
    }

private:
    Node head_;
};

}  // namespace corio::detail

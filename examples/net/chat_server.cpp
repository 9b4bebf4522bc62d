// A line-based chat server in the style of
// the Python documentation's "TCP echo server using streams" (asyncio ›
// Streams › Examples): a client's first line is its name, and every further
// line it sends is broadcast to the other clients as "name: text"; joins and
// leaves are announced. The program starts the server on a free loopback
// port, connects alice, bob and carol, and lets them talk in a fixed order.
// Each client prints what it receives; to keep the output deterministic the
// script reads every expected line (readline on each receiver) before the
// next client speaks.
//
//   class ChatRoom:
//       def __init__(self):
//           self.members = {}                       # name -> StreamWriter
//       def broadcast(self, sender, line):
//           for name, writer in self.members.items():
//               if name != sender:
//                   writer.write(line.encode())
//
//   async def handle_client(room, reader, writer):
//       name = (await reader.readline()).decode().strip()
//       print(f'server: {name} joined')
//       room.broadcast(name, f'* {name} joined\n')
//       room.members[name] = writer
//       writer.write(f'* welcome, {name}! online: {", ".join(room.members)}\n'.encode())
//       while line := await reader.readline():
//           room.broadcast(name, f'{name}: {line.decode()}')
//       del room.members[name]
//       print(f'server: {name} left')
//       room.broadcast(name, f'* {name} left\n')
//       writer.close()
//       await writer.wait_closed()
//
//   async def main():
//       room = ChatRoom()
//       server = await asyncio.start_server(
//           functools.partial(handle_client, room), '127.0.0.1', 0)
//       port = server.sockets[0].getsockname()[1]
//       alice = await join('alice', port)       # open_connection, send the name,
//       bob = await join('bob', port)           # print the welcome line
//       await receive(alice)                    # "* bob joined"
//       ...
//       await say(alice, 'hello')
//       await receive(bob); await receive(carol)
//       ...
//       server.close()
//       await server.wait_closed()
//
//   asyncio.run(main())
#include <corio/corio.hpp>
#include <corio/net.hpp>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/repr.hpp"

namespace net = corio::net;
using example::chomp;

namespace {

// The server's state: who is connected, in the order they joined.
class ChatRoom {
public:
    void add(std::string name, net::StreamWriter writer) {
        members_.emplace_back(std::move(name), std::move(writer));
    }
    void remove(const std::string& name) {
        std::erase_if(members_, [&](const auto& m) { return m.first == name; });
    }
    // Writes `line` to every member but `sender`. write() never suspends: what
    // the socket cannot take now is buffered and sent in the background.
    void broadcast(const std::string& sender, std::string_view line) {
        for (auto& [name, writer] : members_) {
            if (name != sender) {
                writer.write(line);
            }
        }
    }
    std::string names() const {
        std::string out;
        for (const auto& m : members_) {
            out += (out.empty() ? "" : ", ") + m.first;
        }
        return out;
    }

private:
    std::vector<std::pair<std::string, net::StreamWriter>> members_;
};

// The server's side of one connection.
corio::Task<> handle_client(ChatRoom* room, net::StreamReader reader, net::StreamWriter writer) {
    std::string first = co_await reader.readline();
    const std::string name = chomp(first);
    std::printf("server: %s joined\n", name.c_str());
    room->broadcast(name, "* " + name + " joined\n");
    room->add(name, writer);
    writer.write("* welcome, " + name + "! online: " + room->names() + "\n");
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) {  // EOF: the client left
            break;
        }
        room->broadcast(name, name + ": " + line);
    }
    room->remove(name);
    std::printf("server: %s left\n", name.c_str());
    room->broadcast(name, "* " + name + " left\n");
    writer.close();
    co_await writer.wait_closed();
}

// A connected chat client.
struct Client {
    std::string name;
    net::StreamReader reader;
    net::StreamWriter writer;
};

// Connects, sends the name and prints the server's welcome.
corio::Task<Client> join(std::string name, std::uint16_t port) {
    auto [reader, writer] = co_await net::open_connection("127.0.0.1", port);
    writer.write(name + "\n");
    co_await writer.drain();
    std::string welcome = co_await reader.readline();
    std::printf("%s received: %s\n", name.c_str(), chomp(welcome).c_str());
    Client client{std::move(name), reader, writer};
    co_return client;
}

// The client sends one line.
corio::Task<> say(Client* client, std::string text) {
    std::printf("%s says: %s\n", client->name.c_str(), text.c_str());
    client->writer.write(text + "\n");
    co_await client->writer.drain();
}

// The client waits for the next line from the server and prints it.
corio::Task<> receive(Client* client) {
    std::string line = co_await client->reader.readline();
    std::printf("%s received: %s\n", client->name.c_str(), chomp(line).c_str());
}

// The client disconnects.
corio::Task<> leave(Client* client) {
    std::printf("%s leaves\n", client->name.c_str());
    client->writer.close();
    co_await client->writer.wait_closed();
}

corio::Task<> amain() {
    ChatRoom room;
    ChatRoom* room_ptr = &room;
    net::ClientConnected handler = [room_ptr](net::StreamReader r, net::StreamWriter w) {
        return handle_client(room_ptr, std::move(r), std::move(w));  // not a coroutine lambda
    };
    net::Server server = co_await net::start_server(std::move(handler), "127.0.0.1", 0);
    const std::uint16_t port = server.sockets()[0].port();
    std::puts("chat server started");

    Client alice = co_await join("alice", port);
    Client bob = co_await join("bob", port);
    co_await receive(&alice);  // * bob joined
    Client carol = co_await join("carol", port);
    co_await receive(&alice);  // * carol joined
    co_await receive(&bob);

    co_await say(&alice, "hello");
    co_await receive(&bob);
    co_await receive(&carol);
    co_await say(&bob, "hi alice");
    co_await receive(&alice);
    co_await receive(&carol);
    co_await say(&carol, "hey both");
    co_await receive(&alice);
    co_await receive(&bob);

    co_await leave(&bob);
    co_await receive(&alice);  // * bob left
    co_await receive(&carol);
    co_await say(&alice, "bye");
    co_await receive(&carol);
    co_await leave(&alice);
    co_await receive(&carol);  // * alice left
    co_await leave(&carol);

    server.close();
    co_await server.wait_closed();  // waits for carol's handler to see her leave
    std::puts("chat server closed");
}

}  // namespace

int main() {
    corio::run(amain());
}

// ipc: list, inspect and remove the IPC objects of this host; run the demo
// and the benchmarks. Exit status: 0 success, 1 a failed operation, 2 bad usage.
#include "demo.h"
#include "objects.hpp"

#include <ipc.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sys/wait.h>
#include <unistd.h>

using ipc_tool::Object;
using json = nlohmann::ordered_json;

namespace {

constexpr int failed = 1;
constexpr int bad_usage = 2;

json to_json(const Object &o) {
    json j;
    j["kind"] = o.kind;
    j["address"] = o.address;
    j["size"] = o.size;
    j["mode"] = ipc_tool::mode_string(o.mode);
    j["owner"] = ipc_tool::user_name(o.uid);
    j["uid"] = o.uid;
    j["key"] = o.key ? json(*o.key) : json(nullptr);
    j["attached"] = o.attached ? json(*o.attached) : json(nullptr);
    j["creator_pid"] = o.creator ? json(*o.creator) : json(nullptr);
    j["creator_alive"] = o.creator_alive ? json(*o.creator_alive) : json(nullptr);
    j["stale"] = o.stale;
    j["array"] = o.array.empty() ? json(nullptr) : json(o.array);
    j["lock"] = o.lock.empty() ? json(nullptr) : json(o.lock);
    j["changed"] = o.changed;
    return j;
}

std::string or_dash(const std::optional<int64_t> &v) { return v ? std::to_string(*v) : "-"; }

void print_table(const std::vector<Object> &objects) {
    std::printf("%-5s %-40s %12s %5s %-10s %8s %-16s %s\n", "KIND", "ADDRESS", "SIZE", "MODE", "OWNER",
                "ATTACHED", "CREATOR", "DETAILS");
    for (const Object &o : objects) {
        std::string creator = o.creator ? std::to_string(*o.creator) + (o.creator_alive == true ? " (alive)" : " (gone)") : "-";
        std::string details = o.array + o.lock; // one of them at most
        if (o.key)
            details += (details.empty() ? "" : ", ") + std::string("key ") + std::to_string(*o.key);
        if (o.stale)
            details += (details.empty() ? "" : ", ") + std::string("STALE");
        std::printf("%-5s %-40s %12llu %5s %-10s %8s %-16s %s\n", o.kind.c_str(), o.address.c_str(),
                    static_cast<unsigned long long>(o.size), ipc_tool::mode_string(o.mode).c_str(),
                    ipc_tool::user_name(o.uid).c_str(), or_dash(o.attached).c_str(), creator.c_str(),
                    details.c_str());
    }
}

int ls(bool as_json) {
    auto listing = ipc_tool::list_objects();
    if (as_json) {
        json out = {{"objects", json::array()}, {"notes", listing.notes}};
        for (const Object &o : listing.objects)
            out["objects"].push_back(to_json(o));
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    if (listing.objects.empty())
        std::printf("no IPC objects visible\n");
    else
        print_table(listing.objects);
    for (const auto &note : listing.notes)
        std::printf("note: %s\n", note.c_str());
    return 0;
}

// The one object an address names, or an error message.
std::optional<Object> find_one(const std::string &address, const std::string &kind, std::string &why) {
    auto found = ipc_tool::find_objects(address, kind);
    if (found.empty()) {
        why = "no IPC object at \"" + address + "\"" + (kind.empty() ? "" : " of kind " + kind);
        return std::nullopt;
    }
    if (found.size() > 1) {
        why = "\"" + address + "\" names several objects (";
        for (size_t i = 0; i < found.size(); ++i)
            why += (i ? ", " : "") + found[i].kind;
        why += "); choose one with --kind";
        return std::nullopt;
    }
    return found.front();
}

int info(const std::string &address, const std::string &kind, bool as_json) {
    std::string why;
    auto object = find_one(address, kind, why);
    if (!object) {
        std::fprintf(stderr, "ipc info: %s\n", why.c_str());
        return failed;
    }
    json j = to_json(*object);
    ipc_shm_info shm{};
    if ((object->kind == "shm" || object->kind == "sysv") && ipc_shm_stat(object->address.c_str(), &shm) == 0) {
        j["atime"] = shm.atime;
        j["dtime"] = shm.dtime;
        j["ctime"] = shm.ctime;
        if (shm.kind == IPC_SHM_SYSV) {
            j["shmid"] = shm.id;
            j["last_pid"] = shm.lpid;
            j["creator_uid"] = shm.cuid;
        }
    }
    if (as_json) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    for (auto &[field, value] : j.items())
        std::printf("%-14s %s\n", field.c_str(), value.is_string() ? value.get<std::string>().c_str() : value.dump().c_str());
    return 0;
}

int rm(const std::vector<std::string> &addresses, const std::string &kind, bool stale, bool dry_run) {
    int status = 0;
    std::vector<Object> targets;
    if (stale) {
        for (const Object &o : ipc_tool::list_objects().objects)
            if (o.stale && (kind.empty() || o.kind == kind))
                targets.push_back(o);
        if (targets.empty())
            std::printf("no stale objects\n");
    }
    for (const std::string &address : addresses) {
        std::string why;
        if (auto object = find_one(address, kind, why))
            targets.push_back(*object);
        else {
            std::fprintf(stderr, "ipc rm: %s\n", why.c_str());
            status = failed;
        }
    }
    for (const Object &o : targets) {
        if (dry_run) {
            std::printf("would remove %s %s\n", o.kind.c_str(), o.address.c_str());
            continue;
        }
        std::string why;
        if (ipc_tool::remove_object(o, why) < 0) {
            std::fprintf(stderr, "ipc rm: %s\n", why.c_str());
            status = failed;
        } else {
            std::printf("removed %s %s\n", o.kind.c_str(), o.address.c_str());
        }
    }
    return status;
}

// The tool's companions: from the source and build trees when this binary
// is the build tree's, else from where `meson install` put them.
bool in_build_tree() {
    char exe[4096] = {};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    return n > 0 && std::string(exe, static_cast<size_t>(n)).starts_with(IPC_TOOL_BUILD_DIR "/");
}

std::string companion(const std::string &installed_name, const std::string &source_path) {
    return in_build_tree() ? std::string(IPC_TOOL_SOURCE_DIR) + "/" + source_path
                           : std::string(IPC_TOOL_DATA_DIR) + "/" + installed_name;
}

// Debian's interpreter has numpy; the first python3 on PATH may not.
std::string python() { return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3"; }

// In the build tree, Python finds the package and library of this build.
void python_environment() {
    if (!in_build_tree())
        return;
    std::string path = std::string(IPC_TOOL_SOURCE_DIR) + "/bindings/python";
    if (const char *old = std::getenv("PYTHONPATH"); old && *old)
        path += std::string(":") + old;
    setenv("PYTHONPATH", path.c_str(), 1);
    setenv("IPC_LIBRARY", IPC_TOOL_BUILD_DIR "/libipc.so.1", 1);
}

int bench(bool as_json, bool quick) {
    std::string dir = in_build_tree() ? IPC_TOOL_BUILD_DIR "/tools/bench" : IPC_TOOL_LIBEXEC_DIR;
    std::string script = companion("report.py", "tools/bench/report.py");
    std::vector<std::string> args = {python(), script, dir, "--python",
                                     companion("python.py", "tools/bench/python.py")};
    python_environment(); // the Python benchmarks import this build's binding
    if (as_json)
        args.push_back("--json");
    if (quick)
        args.push_back("--quick");
    std::vector<char *> argv;
    for (auto &arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "ipc bench: cannot run %s: %s\n", argv[0], std::strerror(errno));
    return failed;
}

volatile int demo_stop = 0;
void on_demo_signal(int) { demo_stop = 1; }

struct DemoConsumer {
    std::string script, control, frames;
    pid_t pid = -1;
};

// Called by the producer once its objects exist: starts the Python consumer.
void start_consumer(void *user) {
    auto *consumer = static_cast<DemoConsumer *>(user);
    std::string interpreter = python();
    consumer->pid = fork();
    if (consumer->pid == 0) {
        execlp(interpreter.c_str(), interpreter.c_str(), consumer->script.c_str(), consumer->control.c_str(),
               consumer->frames.c_str(), static_cast<char *>(nullptr));
        std::fprintf(stderr, "ipc demo: cannot run %s: %s\n", interpreter.c_str(), std::strerror(errno));
        _exit(127);
    }
}

int demo(double seconds, int64_t size) {
    std::string prefix = "/ipc-demo-" + std::to_string(getpid());
    DemoConsumer consumer{companion("demo_consumer.py", "tools/ipc/demo_consumer.py"), prefix + "-control",
                          prefix + "-frames"};
    python_environment();

    // Ctrl-C stops the producer's loop (its waits return -EINTR) and raises
    // KeyboardInterrupt in the consumer: both then clean up.
    struct sigaction action {};
    action.sa_handler = on_demo_signal;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);

    std::printf("ipc demo: a producer in C publishes %lldx%lld Float32 frames into the shared array %s,\n"
                "signalling each through semaphores in %s; a consumer in Python reads them zero-copy\n"
                "with numpy and checks every pixel. Running for %.0f s (Ctrl-C stops it).\n",
                static_cast<long long>(size), static_cast<long long>(size), consumer.frames.c_str(),
                consumer.control.c_str(), seconds);
    std::fflush(stdout);
    demo_options options{consumer.control.c_str(), consumer.frames.c_str(), size, size, seconds, &demo_stop};
    int64_t produced = demo_produce(&options, start_consumer, &consumer);
    if (produced < 0)
        std::fprintf(stderr, "ipc demo: %s\n", produced == -EPIPE ? "the consumer stopped answering" : ipc_last_error());

    int status = 0;
    if (consumer.pid > 0) {
        while (waitpid(consumer.pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    if (produced >= 0)
        std::printf("producer: %lld frames published; every object removed\n", static_cast<long long>(produced));
    if (demo_stop)
        return 130;
    return produced >= 0 && consumer.pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : failed;
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"ipc: inspect and manage the IPC objects of this host (libipc " +
                 std::to_string(IPC_VERSION_MAJOR) + "." + std::to_string(IPC_VERSION_MINOR) + "." +
                 std::to_string(IPC_VERSION_PATCH) + ")"};
    app.require_subcommand(1);
    const std::vector<std::string> kinds = {"shm", "sysv", "sem", "mq"};

    bool as_json = false;
    auto *ls_cmd = app.add_subcommand("ls", "List every IPC object this user can see");
    ls_cmd->add_flag("--json", as_json, "Print JSON instead of a table");

    std::string address, kind;
    auto *info_cmd = app.add_subcommand("info", "Show everything known about one object");
    info_cmd->add_option("address", address, "/name, key:<n> or shmid:<n>")->required();
    info_cmd->add_option("--kind", kind, "Which object, when a name is shared by several kinds")
        ->check(CLI::IsMember(kinds));
    info_cmd->add_flag("--json", as_json, "Print JSON");

    std::vector<std::string> addresses;
    bool stale = false, dry_run = false;
    auto *rm_cmd = app.add_subcommand("rm", "Remove objects; never one that is still attached");
    rm_cmd->add_option("addresses", addresses, "/name, key:<n> or shmid:<n>");
    rm_cmd->add_option("--kind", kind, "Which object, when a name is shared by several kinds")
        ->check(CLI::IsMember(kinds));
    rm_cmd->add_flag("--stale", stale, "Remove every object whose creator is gone and that nobody attached");
    rm_cmd->add_flag("--dry-run", dry_run, "Only print what would be removed");

    double seconds = 5;
    int64_t size = 512;
    auto *demo_cmd = app.add_subcommand("demo", "A C camera feeds frames to a Python analysis process, zero-copy");
    demo_cmd->add_option("--seconds", seconds, "How long to run")->check(CLI::Range(0.1, 3600.0));
    demo_cmd->add_option("--size", size, "Frame width and height in pixels")->check(CLI::Range(1, 8192));

    bool quick = false;
    auto *bench_cmd = app.add_subcommand("bench", "Run the benchmark suite against the alternatives");
    bench_cmd->add_flag("--json", as_json, "Print JSON instead of the table");
    bench_cmd->add_flag("--quick", quick, "Few short repetitions: a smoke run");

    try {
        app.parse(argc, argv);
        if (rm_cmd->parsed() && addresses.empty() && !stale)
            throw CLI::RequiredError("give addresses to remove, or --stale");
    } catch (const CLI::ParseError &e) {
        int code = app.exit(e);
        return code == 0 ? 0 : bad_usage;
    }

    if (ls_cmd->parsed())
        return ls(as_json);
    if (info_cmd->parsed())
        return info(address, kind, as_json);
    if (demo_cmd->parsed())
        return demo(seconds, size);
    if (bench_cmd->parsed())
        return bench(as_json, quick);
    return rm(addresses, kind, stale, dry_run);
}

# Message queues: creation, sending and receiving, readiness, errors, across
# processes. Included from runtests.jl after sem.jl, which defines start_child;
# runtests.jl defines unique_name, errno_of and PROJECT.

mq_file(name) = "/dev/mqueue/" * name[2:end]

# poll(2) on one descriptor for `events`, without waiting: the events it reports.
function poll_now(fd::RawFD, events::Integer)
    pfd = Int32[Base.cconvert(Cint, fd), Int32(events)]   # struct pollfd: fd, events, revents (0)
    rc = ccall(:poll, Cint, (Ptr{Int32}, Culong, Cint), pfd, 1, 0)
    rc ≥ 0 || error("poll failed")
    return Int(pfd[2] >> 16)                            # revents, the high short on little-endian
end
const POLLIN, POLLOUT = 0x1, 0x4

@testset "message queues" begin

@testset "create, send, receive" begin
    name = unique_name("mq")
    q = MessageQueue(name; capacity = 4, msgsize = 64)
    @test isopen(q)
    @test IPC.capacity(q) == 4 && IPC.msgsize(q) == 64
    @test length(q) == 0 && isempty(q)
    @test Base.unsafe_convert(Ptr{Cvoid}, q) == q.handle != C_NULL
    @test filemode(mq_file(name)) & 0o777 == 0o600
    @test IPC.mq_priority_max() == 32767

    send(q, "low")
    send(q, UInt8[1, 2, 3]; priority = 7)
    send(q, ""; priority = IPC.mq_priority_max())
    send(q, Int32[5]; priority = 7, timeout = 1)
    @test length(q) == 4 && !isempty(q)
    @test occursin("4/4 messages", repr(q))
    @test receive(q) == (UInt8[], 32767)
    @test receive(q) == (UInt8[1, 2, 3], 7)          # the oldest of the highest priority
    buf = zeros(UInt8, 64)
    @test receive!(q, buf; timeout = 1) == (4, 7)
    @test reinterpret(Int32, buf[1:4]) == [5]
    data, prio = receive(q; timeout = Inf)
    @test String(data) == "low" && prio == 0

    # Full and empty: try forms and timeouts.
    @test tryreceive(q) === nothing
    started = time()
    @test_throws IPC.TimeoutError receive(q; timeout = 0.2)
    @test time() - started ≥ 0.2
    @test_throws IPC.TimeoutError receive!(q, buf; timeout = 0)
    for i in 1:4
        @test trysend(q, "m$i"; priority = i)
    end
    @test !trysend(q, "full")
    @test_throws IPC.TimeoutError send(q, "full"; timeout = 0.1)
    @test_throws ArgumentError send(q, "x"; timeout = -1)
    @test_throws ArgumentError receive(q; timeout = NaN)
    @test tryreceive(q) == (Vector{UInt8}("m4"), 4)
    close(q)                                          # volatile (the default): the name goes
    @test !isopen(q)
    @test occursin("closed", repr(q))
    close(q)                                          # closing again does nothing
    @test !isfile(mq_file(name))
    @test errno_of(() -> length(q)) == Libc.EBADF     # a closed handle, no crash
    @test errno_of(() -> send(q, "x")) == Libc.EBADF
end

@testset "message size and priority errors" begin
    q = MessageQueue(unique_name("mqsize"); capacity = 2, msgsize = 8)
    @test errno_of(() -> send(q, "123456789")) == Libc.EMSGSIZE
    send(q, "ok")
    @test errno_of(() -> receive!(q, zeros(UInt8, 7))) == Libc.EMSGSIZE   # room for the largest needed
    @test length(q) == 1
    @test receive!(q, zeros(UInt64, 1)) == (2, 0)     # any dense array of plain values
    @test_throws ArgumentError send(q, "p"; priority = IPC.mq_priority_max() + 1)
    @test_throws ArgumentError send(q, "p"; priority = -1)
    @test_throws ArgumentError send(q, "p"; priority = Int64(typemax(UInt32)) + 1)
    @test_throws ArgumentError send(q, Any[1])
    @test_throws ArgumentError receive!(q, Any[nothing])
    @test isempty(q)
    close(q)
end

@testset "open, directions, volatile, rm" begin
    name = unique_name("mqopen")
    q = MessageQueue(name; capacity = 2, msgsize = 16, perms = 0o640, volatile = false)
    @test filemode(mq_file(name)) & 0o777 == 0o640
    @test errno_of(() -> MessageQueue(name; capacity = 2)) == Libc.EEXIST
    out = MessageQueue(name; writeonly = true)
    inq = MessageQueue(name; readonly = true)
    @test IPC.capacity(inq) == 2 && IPC.msgsize(inq) == 16
    send(out, "hello")
    @test errno_of(() -> receive(out; timeout = 0)) == Libc.EBADF
    @test errno_of(() -> send(inq, "x")) == Libc.EBADF
    @test String(receive(inq)[1]) == "hello"
    foreach(close, (out, inq, q))
    @test isfile(mq_file(name))                       # not volatile: the name stays

    # Readiness: readable with a message, writable with room.
    q = MessageQueue(name; volatile = true)           # an opener may ask for removal too
    @test poll_now(fd(q), POLLIN | POLLOUT) == POLLOUT
    send(q, "a")
    @test poll_now(fd(q), POLLIN | POLLOUT) == POLLIN | POLLOUT
    send(q, "b")
    @test poll_now(fd(q), POLLIN | POLLOUT) == POLLIN
    close(q)
    @test !isfile(mq_file(name))

    kept = MessageQueue(name; msgsize = 8, volatile = false)   # capacity: the system default
    @test IPC.capacity(kept) == parse(Int, read("/proc/sys/fs/mqueue/msg_default", String))
    rm(kept)
    @test !isfile(mq_file(name))
    @test errno_of(() -> MessageQueue(name)) == Libc.ENOENT
    send(kept, "still")                               # usable once its name is gone
    @test length(kept) == 1
    finalize(kept)
    @test !isopen(kept)
    rm(MessageQueue, name)                            # removing what is gone does nothing

    gone = MessageQueue(name; capacity = 1)
    finalize(gone)                                    # volatile: the finalizer removes the name
    @test !isfile(mq_file(name))
end

@testset "bad arguments" begin
    name = unique_name("mqbad")
    msg_max = parse(Int, read("/proc/sys/fs/mqueue/msg_max", String))
    @test_throws ArgumentError MessageQueue(name; capacity = msg_max + 1)
    @test_throws ArgumentError MessageQueue(name; capacity = -1)
    @test_throws ArgumentError MessageQueue(name; msgsize = -1)
    @test_throws ArgumentError MessageQueue(name; capacity = 1, perms = 0o1000)
    @test_throws ArgumentError MessageQueue(name; capacity = 1, readonly = true)
    @test_throws ArgumentError MessageQueue(name; perms = 0o600)          # opening takes no perms
    @test_throws ArgumentError MessageQueue(name; readonly = true, writeonly = true)
    @test_throws ArgumentError MessageQueue("no-slash"; capacity = 1)
    @test_throws ArgumentError MessageQueue("/a/b")
    @test_throws ArgumentError rm(MessageQueue, "no-slash")
    @test !isfile(mq_file(name))
end

@testset "across processes" begin
    # The child sends 1000 messages of varying sizes and priorities through a
    # queue of 8, so it waits while the queue is full; every one arrives intact.
    name = unique_name("mqx")
    q = MessageQueue(name; capacity = 8, msgsize = 256)
    message(i) = vcat(reinterpret(UInt8, [Int32(i)]), UInt8[(i * 7 + k) & 0xff for k in 0:(i % 200) - 1])
    child = start_child("""
        q = MessageQueue("$name"; writeonly = true)
        for i in 0:999
            send(q, vcat(reinterpret(UInt8, [Int32(i)]), UInt8[(i * 7 + k) & 0xff for k in 0:(i % 200) - 1]);
                 priority = i % 5, timeout = 120)
        end
        close(q)
        """)
    seen = Dict{Int,Int}()
    buf = Vector{UInt8}(undef, IPC.msgsize(q))
    for n in 1:1000
        len, prio = receive!(q, buf; timeout = 120)
        i = Int(reinterpret(Int32, buf[1:4])[1])
        @test buf[1:len] == message(i) && prio == i % 5 && !haskey(seen, i)
        seen[i] = n
    end
    wait(child)
    @test success(child)
    @test sort(collect(keys(seen))) == 0:999 && isempty(q)
    @test all(p -> issorted([seen[i] for i in p:5:999]), 0:4)   # one priority keeps its order
    close(q)
end

end # testset message queues

# Tests of IPC.Mutex, IPC.Condition and IPC.RWLock; included from runtests.jl,
# which defines unique_name, in_child and errno_of.

# Starts `code` in a second Julia process (as in_child) without waiting for it.
function child_process(code::AbstractString)
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(PROJECT) -e $("using IPC; " * code)`
    return run(pipeline(addenv(cmd, "IPC_LIBRARY" => IPC.library()); stderr = stderr); wait = false)
end

# Runs `code` in a second Julia process that then kills itself with SIGKILL,
# still holding whatever it locked (and still mapping it: the system marks a
# robust mutex only where the dying process maps it).
function child_dies(code::AbstractString)
    p = child_process(code * "; ccall(:kill, Cint, (Cint, Cint), getpid(), 9)")
    wait(p)
    return p.termsignal
end

# The exception `f` throws, or nothing.
thrown(f) = try
    f()
    nothing
catch err
    err
end

byte(shm, off) = Ptr{UInt8}(pointer(shm)) + off

@testset "locks" begin

@testset "sizes and constants" begin
    @test sizeof(IPC.Mutex) > 0 && sizeof(IPC.Condition) > 0 && sizeof(IPC.RWLock) > 0
    @test sizeof(IPC.Mutex{String}) == sizeof(IPC.Mutex)
    @test IPC.IPC_SYNC_ALIGN == 8
    @test IPC.IPC_RWLOCK_PREFER_WRITER == 0x100
end

@testset "named mutex" begin
    name = unique_name("mutex")
    m = IPC.Mutex(name; create = true)
    @test m isa IPC.Mutex{String}
    @test isopen(m)
    @test Base.unsafe_convert(Ptr{Cvoid}, m) == m.handle != C_NULL
    @test sprint(show, m) == "IPC.Mutex($(repr(name)))"
    lock(m)
    @test !trylock(m)                       # held (by this thread too)
    @test errno_of(() -> lock(m)) == Libc.EDEADLK
    @test in_child("""
        m = IPC.Mutex("$name")
        t = time()
        print(trylock(m), " ", timedlock(m, 0.2), " ", time() - t >= 0.2)
        """) == "false false true"
    unlock(m)
    @test errno_of(() -> unlock(m)) == Libc.EPERM
    @test in_child("""
        m = IPC.Mutex("$name")
        print(trylock(m)); unlock(m); print(" ", timedlock(m, 5)); unlock(m)
        """) == "true true"
    @test timedlock(m, 0)
    unlock(m)
    @test lock(() -> 42, m) == 42
    @test trylock(m)                        # lock(f, m) released it
    unlock(m)
    @test_throws ArgumentError timedlock(m, -1)
    @test_throws ArgumentError timedlock(m, NaN)
    @test IPC.spin!(m, 10_000) === m
    @test_throws ArgumentError IPC.spin!(m, -1)
    @test_throws ArgumentError IPC.consistent(m)   # nobody died

    @test errno_of(() -> IPC.Mutex(name; create = true)) == Libc.EEXIST
    same = IPC.Mutex(name; open_or_create = true)
    lock(same)
    @test !trylock(m)
    unlock(same)
    close(same)
    @test errno_of(() -> IPC.Condition(name)) == Libc.EBADMSG
    @test errno_of(() -> IPC.RWLock(name; open_or_create = true)) == Libc.EBADMSG
    close(m)                                # volatile (made here): the name goes
    @test !isopen(m)
    @test sprint(show, m) == "IPC.Mutex($(repr(name)), closed)"
    close(m)                                # closing again does nothing
    @test errno_of(() -> trylock(m)) == Libc.EBADF
    @test errno_of(() -> IPC.Mutex(name)) == Libc.ENOENT

    # Not volatile: the name stays until removed.
    kept = IPC.Mutex(name; create = true, volatile = false, perms = 0o640)
    close(kept)
    again = IPC.Mutex(name)
    rm(again)
    @test errno_of(() -> IPC.Mutex(name)) == Libc.ENOENT
    rm(IPC.Mutex, name)                     # already gone: nothing
    close(again)
    finalize(IPC.Mutex(name; create = true))
    @test errno_of(() -> IPC.Mutex(name)) == Libc.ENOENT   # the finalizer closed it

    @test_throws ArgumentError IPC.Mutex("no-slash"; create = true)
    @test_throws ArgumentError IPC.Mutex("/a/b")
    @test_throws ArgumentError IPC.Mutex(name; create = true, perms = 0o1000)
    @test_throws ArgumentError IPC.Mutex(name; volatile = true)   # only a creator
end

@testset "owner death" begin
    name = unique_name("dead")
    m = IPC.Mutex(name; create = true)
    @test child_dies("m = IPC.Mutex(\"$name\"); lock(m)") == 9
    err = thrown(() -> lock(m))
    @test err isa SystemError && err.errnum == Libc.EOWNERDEAD
    @test in_child("print(trylock(IPC.Mutex(\"$name\")))") == "false"   # we hold it
    IPC.consistent(m)
    unlock(m)
    @test trylock(m)
    unlock(m)

    # Unlocked without consistent(): unusable for everyone.
    @test child_dies("m = IPC.Mutex(\"$name\"); lock(m)") == 9
    err = thrown(() -> timedlock(m, 5))
    @test err isa SystemError && err.errnum == Libc.EOWNERDEAD
    unlock(m)
    @test errno_of(() -> lock(m)) == Libc.ENOTRECOVERABLE
    @test errno_of(() -> trylock(m)) == Libc.ENOTRECOVERABLE
    @test in_child("""
        code = try
            lock(IPC.Mutex("$name"))
            0
        catch err
            err.errnum
        end
        print(code == Libc.ENOTRECOVERABLE)
        """) == "true"
    close(m)
end

@testset "locks in shared memory" begin
    name = unique_name("mem")
    shm = SharedMemory(name, 4096)
    m = IPC.Mutex(shm, 0)
    c = IPC.Condition(shm, 64)
    rw = IPC.RWLock(shm, 192; prefer_writer = true)
    @test m isa IPC.Mutex{SharedMemory{String}}
    @test sprint(show, c) == "IPC.Condition(in memory)"
    @test errno_of(() -> IPC.Mutex(shm, 512; attach = true)) == Libc.EBADMSG   # nothing there
    @test errno_of(() -> IPC.RWLock(shm, 0; attach = true)) == Libc.EBADMSG    # a mutex there
    @test_throws ArgumentError IPC.Mutex(shm, 4)            # misaligned
    @test_throws ArgumentError IPC.Mutex(shm, 4096 - 8)     # too little room
    @test_throws ArgumentError IPC.Mutex(shm, -8)
    @test_throws ArgumentError IPC.Mutex(shm, 8192)
    ro = SharedMemory(name; readonly = true)
    @test_throws ArgumentError IPC.Mutex(ro, 0; attach = true)
    close(ro)

    # A private buffer works too (within one process), and IPC.jl's `shared`.
    buf = zeros(UInt8, sizeof(IPC.Mutex) + 8)
    private = IPC.Mutex(buf, 8; shared = false)
    @test trylock(private)
    unlock(private)
    close(private)

    # A child attaches, counts under the mutex and signals; the parent waits,
    # spinning first.
    @test IPC.spin!(c, 100_000) === c
    @test_throws ArgumentError IPC.spin!(c, -1)
    unsafe_store!(byte(shm, 256), 0x00)
    lock(m)
    p = child_process("""
        shm = SharedMemory("$name")
        m = IPC.Mutex(shm, 0; attach = true)
        c = IPC.Condition(shm, 64; attach = true)
        sleep(0.3)
        lock(m) do
            unsafe_store!(Ptr{UInt8}(pointer(shm)) + 256, 0x01)
            signal(c)
        end
        """)
    deadline = time() + 60
    while unsafe_load(byte(shm, 256)) == 0 && time() < deadline
        timedwait(c, m, 10)                 # early returns are fine: the loop checks
    end
    @test unsafe_load(byte(shm, 256)) == 0x01
    t = time()
    @test timedwait(c, m, 0.3) == false      # nobody signals
    @test time() - t >= 0.3
    @test wait(c, m) === nothing             # returns after a slice at most
    @test_throws ArgumentError timedwait(c, m, -1)
    unlock(m)
    wait(p)
    @test success(p)
    @test errno_of(() -> wait(c, m)) == Libc.EPERM         # m not held
    notify(c)
    notify(c; all = true)
    broadcast(c)

    # Read/write lock: readers share, a writer is alone.
    lock(rw, 'r')
    @test in_child("""
        rw = IPC.RWLock(SharedMemory("$name"), 192; attach = true)
        r = trylock(rw, 'r'); r && unlock(rw)
        print(r, " ", trylock(rw, 'w'), " ", timedlock(rw, 'w', 0.1))
        """) == "true false false"
    unlock(rw)
    lock(rw, 'w')
    @test errno_of(() -> lock(rw, 'r')) == Libc.EDEADLK
    @test in_child("""
        rw = IPC.RWLock(SharedMemory("$name"), 192; attach = true)
        print(trylock(rw, 'r'), " ", timedlock(rw, 'r', 0.1))
        """) == "false false"
    unlock(rw)
    @test errno_of(() -> unlock(rw)) == Libc.EPERM
    @test lock(() -> :done, rw, 'r') == :done
    @test trylock(rw, 'w')
    unlock(rw)
    @test_throws ArgumentError lock(rw, 'x')
    @test_throws ArgumentError trylock(rw, 'x')

    foreach(close, (m, c, rw))
    @test !isopen(rw)
    # The locks stay in the memory: attaching again finds them.
    again = IPC.Mutex(shm, 0; attach = true)
    @test trylock(again)
    unlock(again)
    close(again)
    close(shm)
end

@testset "named condition and read/write lock" begin
    name = unique_name("cond")
    c = IPC.Condition(name; create = true)
    @test c isa IPC.Condition{String}
    other = IPC.Condition(name)
    signal(other)
    close(other)
    rm(c)
    @test errno_of(() -> IPC.Condition(name)) == Libc.ENOENT
    close(c)

    rw = IPC.RWLock(name; create = true, prefer_writer = true)
    @test trylock(rw, 'w')
    @test in_child("print(trylock(IPC.RWLock(\"$name\"), 'r'))") == "false"
    unlock(rw)
    close(rw)
    @test errno_of(() -> IPC.RWLock(name)) == Libc.ENOENT
end

end # testset locks

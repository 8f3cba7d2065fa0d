# Semaphores: named and in memory, across processes. Included from runtests.jl,
# which defines unique_name, in_child, errno_of and PROJECT.

# Starts a second Julia process running `code` without waiting for it.
function start_child(code::AbstractString)
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(PROJECT) -e $("using IPC; " * code)`
    return run(addenv(cmd, "IPC_LIBRARY" => IPC.library()); wait = false)
end

sem_file(name) = "/dev/shm/sem." * name[2:end]

@testset "semaphores" begin

@testset "limits" begin
    @test sizeof(Semaphore) == 32
    @test IPC.alignof_semaphore() == 8
    @test typemin(Semaphore) == 0
    @test typemax(Semaphore) == 2147483647
end

@testset "named semaphores" begin
    name = unique_name("sem")
    sem = Semaphore(name, 2)
    @test sem isa Semaphore{String}
    @test isopen(sem)
    @test Base.unsafe_convert(Ptr{Cvoid}, sem) == sem.handle != C_NULL
    @test sem[] == 2
    @test convert(Int, sem) == 2
    @test occursin("value=2", repr(sem))
    @test trywait(sem)
    wait(sem)
    @test sem[] == 0
    @test !trywait(sem)
    started = time()
    @test_throws IPC.TimeoutError timedwait(sem, 0.2)
    @test time() - started ≥ 0.2
    @test_throws IPC.TimeoutError timedwait(sem, 0)
    @test_throws ArgumentError timedwait(sem, -1)
    @test_throws ArgumentError timedwait(sem, NaN)
    post(sem)
    timedwait(sem, Inf)
    @test sem[] == 0

    other = Semaphore(name)              # opens the same semaphore
    @test other isa Semaphore{String}
    post(other)
    @test sem[] == 1
    close(other)
    @test filemode(sem_file(name)) & 0o777 == 0o600
    @test errno_of(() -> Semaphore(name, 0)) == Libc.EEXIST

    @test IPC.spin!(sem, 50_000) === sem
    @test_throws ArgumentError IPC.spin!(sem, -1)
    wait(sem)                            # a spinning wait takes what is there

    close(sem)                           # volatile (the default): the name goes
    @test !isopen(sem)
    @test occursin("closed", repr(sem))
    close(sem)                           # closing again does nothing
    @test !isfile(sem_file(name))
    @test errno_of(() -> Semaphore(name)) == Libc.ENOENT
    @test errno_of(() -> post(sem)) == Libc.EBADF   # a closed handle, no crash
    @test errno_of(() -> wait(sem)) == Libc.EBADF
end

@testset "perms, volatile, rm" begin
    name = unique_name("semkw")
    sem = Semaphore(name, 1; perms = 0o640, volatile = false)
    @test filemode(sem_file(name)) & 0o777 == 0o640
    close(sem)
    @test isfile(sem_file(name))         # not volatile: the name stays
    again = Semaphore(name)
    @test again[] == 1
    rm(again)
    @test !isfile(sem_file(name))
    @test again[] == 1                   # still usable once its name is gone
    close(again)
    rm(Semaphore, name)                  # removing what is gone does nothing

    kept = Semaphore(name, 0; volatile = false)
    finalize(kept)                       # not volatile: the finalizer keeps the name
    @test !isopen(kept)
    rm(Semaphore, name)
    gone = Semaphore(name, 0)
    finalize(gone)                       # volatile: the finalizer removes the name
    @test !isfile(sem_file(name))
end

@testset "bad arguments" begin
    name = unique_name("sembad")
    @test_throws ArgumentError Semaphore(name, -1)
    @test_throws ArgumentError Semaphore(name, typemax(Semaphore) + 1)
    @test_throws ArgumentError Semaphore(name, 0; perms = 0o1000)
    @test_throws ArgumentError Semaphore("no-slash", 0)
    @test_throws ArgumentError Semaphore("/a/b", 0)
    @test_throws ArgumentError Semaphore("/" * "x"^252, 0)
    @test_throws ArgumentError Semaphore("no-slash")
    @test_throws ArgumentError rm(Semaphore, "no-slash")
    @test !isfile(sem_file(name))
end

@testset "in memory" begin
    buf = zeros(UInt8, 64)
    sem = Semaphore(buf, 1; offset = 8)
    @test sem isa Semaphore{Vector{UInt8}}
    @test sem.lnk === buf                # keeps its memory alive
    @test occursin("in memory", repr(sem))
    other = Semaphore(buf; offset = 8)   # attaches
    @test trywait(other)
    @test sem[] == 0
    post(sem)
    @test other[] == 1
    close(sem)                           # leaves the semaphore in place
    @test other[] == 1
    close(other)
    @test Semaphore(buf; offset = 8)[] == 1

    @test_throws ArgumentError Semaphore(buf, 0; offset = 4)    # misaligned
    @test_throws ArgumentError Semaphore(buf, 0; offset = 40)   # fewer than 32 bytes left
    @test_throws ArgumentError Semaphore(buf, 0; offset = 65)   # beyond the memory
    @test_throws ArgumentError Semaphore(buf; offset = -8)
    @test_throws ArgumentError Semaphore(zeros(UInt8, 64))      # no semaphore there
    @test_throws ArgumentError Semaphore(buf, -1)

    full = Semaphore(zeros(UInt64, 4), typemax(Semaphore))
    @test errno_of(() -> post(full)) == Libc.EOVERFLOW
    close(full)

    name = unique_name("semshm")
    shm = SharedMemory(name, 4096)
    ro = SharedMemory(name; readonly = true)
    @test_throws ArgumentError Semaphore(ro, 0)
    @test_throws ArgumentError Semaphore(ro)
    close(ro)
    @test_throws ArgumentError Semaphore(ro)   # closed
    close(shm)
end

@testset "the wait loop" begin
    # -EINTR resumes the call, with the time left when there is a timeout.
    codes = [-Libc.EINTR, -Libc.EINTR, 0]
    asked = Float64[]
    @test IPC._waiting(s -> (push!(asked, s); popfirst!(codes)), 5.0) == 0
    @test length(asked) == 3 && asked[1] == 5.0 && issorted(asked; rev = true) && asked[3] ≥ 0
    codes = [-Libc.EINTR, 0]
    @test IPC._waiting(() -> popfirst!(codes)) == 0
    @test isempty(codes)
    codes = [-Libc.EINTR, -Libc.ETIMEDOUT]
    @test_throws IPC.TimeoutError IPC._waiting(s -> popfirst!(codes), 1.0)
end

@testset "across processes" begin
    # Named: the child opens the semaphore and posts while the parent waits.
    name = unique_name("semx")
    sem = Semaphore(name, 0)
    child = start_child("""
        sem = Semaphore("$name")
        sleep(0.2)
        post(sem); post(sem)
        close(sem)
        """)
    timedwait(sem, 120)
    wait(child)
    @test success(child)
    @test sem[] == 1
    close(sem)

    # In shared memory: the child attaches through its own mapping.
    shmname = unique_name("semxshm")
    shm = SharedMemory(shmname, 4096)
    ping = Semaphore(shm, 0; offset = 0)
    pong = Semaphore(shm, 0; offset = 64)
    child = start_child("""
        shm = SharedMemory("$shmname")
        ping = Semaphore(shm; offset = 0)
        pong = Semaphore(shm; offset = 64)
        for _ in 1:3
            timedwait(ping, 120)
            post(pong)
        end
        """)
    for _ in 1:3
        post(ping)
        timedwait(pong, 120)
    end
    wait(child)
    @test success(child)
    @test ping[] == 0 && pong[] == 0
    foreach(close, (ping, pong, shm))
end

end # testset semaphores

# Tests of the IPC package over libipc. Run with
#   IPC_LIBRARY=build/libipc.so.1 julia --project=bindings/julia/IPC bindings/julia/IPC/test/runtests.jl
using Test
using IPC
using IPC: Key, PRIVATE

const PROJECT = dirname(@__DIR__)

# A name no other test or run uses.
unique_name(what) = "/ipcjl-$(what)-$(getpid())-$(string(rand(UInt32), base = 16))"

# Runs `code` in a second Julia process that loads this package on the same
# library, and returns what it printed.
function in_child(code::AbstractString)
    cmd = `$(Base.julia_cmd()) --startup-file=no --project=$(PROJECT) -e $("using IPC; " * code)`
    return readchomp(addenv(cmd, "IPC_LIBRARY" => IPC.library()))
end

# The errno of a SystemError thrown by f.
function errno_of(f)
    try
        f()
    catch err
        err isa SystemError && return err.errnum
        rethrow()
    end
    return 0
end

bytes(shm, n = sizeof(shm)) = unsafe_wrap(Array, Ptr{UInt8}(pointer(shm)), n)

@testset "IPC" begin

@testset "library" begin
    @test isfile(IPC.library())
    @test IPC.version()[1] == IPC.IPC_VERSION_MAJOR
    @test IPC.page_size() >= 4096
    @test sizeof(ShmInfo) == 80
    @test IPC.strerror(-Libc.ENOENT) == Libc.strerror(Libc.ENOENT)
end

@testset "POSIX shared memory" begin
    name = unique_name("posix")
    shm = SharedMemory(name, 1000)
    @test shm isa SharedMemory{String}
    @test sizeof(shm) == 1000
    @test pointer(shm) != C_NULL
    @test shmid(shm) == name
    @test isopen(shm)
    @test !isreadonly(shm)
    @test all(iszero, bytes(shm))          # new memory reads as zeros
    @test Base.unsafe_convert(Ptr{Cvoid}, shm) == shm.handle != C_NULL
    bytes(shm)[1:3] .= [1, 2, 3]

    # A second mapping in this process sees the same bytes.
    other = SharedMemory(name; readonly = true)
    @test isreadonly(other)
    @test sizeof(other) == 1000
    @test bytes(other)[1:3] == [1, 2, 3]
    @test pointer(other) != pointer(shm)
    info = shminfo(other)
    @test info.size == info.segsz == 1000
    @test info.kind == IPC.IPC_SHM_POSIX
    @test info.mode == 0o600
    @test info.nattch == -1
    @test ShmInfo(name).size == 1000
    close(other)
    @test !isopen(other)
    @test pointer(other) == C_NULL
    close(other)                            # closing again does nothing

    # Creation is exclusive.
    @test errno_of(() -> SharedMemory(name, 10)) == Libc.EEXIST

    # A volatile object (the default) goes when its creator closes it.
    close(shm)
    @test errno_of(() -> SharedMemory(name)) == Libc.ENOENT
    @test errno_of(() -> shminfo(name)) == Libc.ENOENT
end

@testset "keywords: size, volatile, perms" begin
    name = unique_name("keywords")
    shm = SharedMemory(name; size = 64, volatile = false, perms = 0o640)
    @test sizeof(shm) == 64
    @test shminfo(shm).mode == 0o640
    @test shmcfg(shm, 0o600) == name
    @test shminfo(name).mode == 0o600
    @test shmcfg(name, 0o644) == name
    @test shminfo(shm).mode == 0o644
    close(shm)
    # Not volatile: it outlives its creator's handle, until removed.
    again = SharedMemory(name; volatile = true)
    @test sizeof(again) == 64
    close(again)
    @test errno_of(() -> shminfo(name)) == Libc.ENOENT

    kept = SharedMemory(name, 16; volatile = false)
    rm(kept)
    @test errno_of(() -> SharedMemory(name)) == Libc.ENOENT
    close(kept)                             # its name is already gone: no error
    shmrm(name)                             # removing what is gone does nothing
    rm(SharedMemory, name)
end

@testset "finalizer" begin
    name = unique_name("finalizer")
    shm = SharedMemory(name, 32)
    finalize(shm)
    @test !isopen(shm)
    @test errno_of(() -> shminfo(name)) == Libc.ENOENT
end

@testset "errors" begin
    name = unique_name("errors")
    @test_throws ArgumentError SharedMemory(name, 0)
    @test_throws ArgumentError SharedMemory(name, 10; perms = 0o1000)
    @test_throws ArgumentError SharedMemory("no-slash", 10)
    @test_throws ArgumentError SharedMemory("/a/b", 10)
    @test_throws ArgumentError SharedMemory(name; size = 10, readonly = true)
    @test_throws ArgumentError SharedMemory(ShmId(1), 10)   # segments are made by key
    @test_throws ArgumentError SharedMemory("/nul\0inside", 10)
    err = try
        SharedMemory(name)
    catch e
        e
    end
    @test err isa SystemError
    @test err.errnum == Libc.ENOENT
    @test occursin(name, err.prefix)        # the library's context names the object
    @test !endswith(err.prefix, Libc.strerror(Libc.ENOENT))

    shm = SharedMemory(name, 8)
    close(shm)
    @test errno_of(() -> isreadonly(shm)) == Libc.EBADF   # a closed handle, no crash
    @test errno_of(() -> shminfo(shm)) == Libc.EBADF
    @test IPC.TimeoutError() isa Exception
    @test sprint(showerror, IPC.TimeoutError("sem wait")) == "TimeoutError: sem wait"
end

@testset "System V segments" begin
    shm = SharedMemory(PRIVATE, 4096)
    id = shmid(shm)
    @test shm isa SharedMemory{ShmId}
    @test id isa ShmId
    @test ShmId(id) === id
    @test ShmId(shm) === id
    @test convert(Cint, id) == id.value
    @test sizeof(id) == 4096
    bytes(shm)[1] = 0x5a

    other = SharedMemory(id)
    @test shmid(other) == id
    @test bytes(other)[1] == 0x5a
    info = shminfo(id)
    @test info.kind == IPC.IPC_SHM_SYSV
    @test info.id == id.value
    @test info.nattch == 2
    @test info.cpid == getpid()
    @test ShmInfo(shm).nattch == 2
    close(other)
    @test shminfo(id).nattch == 1
    close(shm)                              # volatile: the segment goes
    @test errno_of(() -> shminfo(id)) == Libc.ENOENT
end

@testset "System V keys" begin
    path = tempname()
    touch(path)
    key = Key(path, 7)
    @test key == Key(path, 7)
    @test key != Key(path, 8)
    @test_throws ArgumentError Key(path, 0)
    @test errno_of(() -> Key(path * ".missing", 1)) == Libc.ENOENT
    rm(SharedMemory, key)                   # a leftover of an earlier run, if any
    shm = SharedMemory(key, 128; volatile = false)
    @test ShmId(key) == shmid(shm)
    @test ShmId(key; readonly = true) == shmid(key) == shmid(key; readonly = true)
    @test shmid(key) == shmid(shm)
    @test shminfo(key).key == key.value
    byid = SharedMemory(ShmId(key); readonly = true)
    bykey = SharedMemory(key)
    @test isreadonly(byid) && !isreadonly(bykey)
    bytes(bykey)[128] = 0x7f
    @test bytes(byid)[128] == 0x7f
    foreach(close, (shm, byid, bykey))
    @test sizeof(ShmId(key)) == 128         # not volatile: still there
    rm(SharedMemory, key)
    @test errno_of(() -> ShmId(key)) == Libc.ENOENT
    rm(SharedMemory, key)                   # already gone: nothing
    rm(path)
    @test Key(0xffffffff).value == -1
    @test IPC._address(PRIVATE) == "private"
end

@testset "across processes" begin
    # POSIX: the child reads what the parent wrote and answers in the memory.
    name = unique_name("cross")
    shm = SharedMemory(name, 4096)
    bytes(shm)[1:5] .= codeunits("hello")
    out = in_child("""
        shm = SharedMemory("$name")
        b = unsafe_wrap(Array, Ptr{UInt8}(pointer(shm)), sizeof(shm))
        print(String(b[1:5]), " ", sizeof(shm))
        b[6:10] .= codeunits("world")
        close(shm)
        """)
    @test out == "hello 4096"
    @test String(bytes(shm)[6:10]) == "world"

    # A read-only mapping in the child cannot change anything.
    out = in_child("""
        shm = SharedMemory("$name"; readonly = true)
        print(isreadonly(shm), " ", shminfo(shm).cpid)
        """)
    @test out == "true -1"
    close(shm)

    # System V: the child attaches by ShmId and sees itself counted.
    seg = SharedMemory(PRIVATE, 256)
    bytes(seg)[1] = 42
    out = in_child("""
        shm = SharedMemory(ShmId($(shmid(seg).value)))
        b = unsafe_wrap(Array, Ptr{UInt8}(pointer(shm)), 1)
        print(b[1], " ", shminfo(shm).nattch)
        b[1] = 43
        """)
    @test out == "42 2"
    @test bytes(seg)[1] == 43
    @test shminfo(seg).nattch == 1          # the child's mapping went with it
    close(seg)

    # A non-volatile object made by the child outlives it.
    child_name = unique_name("child")
    @test in_child("""
        shm = SharedMemory("$child_name", 10; volatile = false)
        print(shmid(shm))
        close(shm)
        """) == child_name
    left = SharedMemory(child_name; volatile = true)
    @test sizeof(left) == 10
    close(left)
    @test errno_of(() -> shminfo(child_name)) == Libc.ENOENT
end

include("sem.jl")
include("array.jl")
include("mq.jl")

end # testset IPC

# Shared arrays: WrappedArray, ShmArray, ShmVector, ShmMatrix and the header.
# Included from runtests.jl (which defines unique_name, in_child and errno_of).

@testset "wrapped arrays over memory objects" begin
    # As IPC.jl's own test: a Float32 matrix over plain memory.
    buf = Vector{UInt8}(undef, sizeof(Float32) * 30)
    A = WrappedArray(buf, Float32, 5, 6)
    @test A isa WrappedArray{Float32,2} && A isa WrappedMatrix{Float32} && A isa DenseArray{Float32,2}
    @test ndims(A) == 2 && size(A) == (5, 6) && size(A, 1) == 5 && size(A, 2) == 6
    @test eltype(A) == Float32 && Base.elsize(A) == sizeof(Float32) && sizeof(A) == sizeof(buf)
    @test pointer(A) == Ptr{Float32}(pointer(buf))
    @test IndexStyle(A) == IndexLinear() && strides(A) == (1, 5)
    A[:] = 1:length(A)
    @test A[1] == 1 && A[end] == 30 && A[2, 3] == 2 + 5 * 2
    @test copy(A) isa Matrix{Float32} && copy(A) == A
    @test Base.unsafe_convert(Ptr{Float32}, A) == pointer(A)
    @test Base.unsafe_convert(Ptr{UInt8}, A) == Ptr{UInt8}(pointer(A))
    v = WrappedArray(buf)                   # the longest UInt8 vector
    @test v isa WrappedVector{UInt8} && length(v) == 120
    @test length(WrappedArray(buf, Float64; offset = 8)) == 14
    @test_throws ArgumentError WrappedArray(buf, Float32, 10, 10)
    @test_throws ArgumentError WrappedArray(buf, Float32; offset = -1)
    @test_throws ArgumentError WrappedArray(buf, Float64; offset = 3)   # misaligned
    @test_throws ArgumentError WrappedArray(buf, String)
end

@testset "ShmArray: create by name, open by name" begin
    name = unique_name("array")
    A = WrappedArray(name, Float64, 3, 4)
    @test A isa ShmArray{Float64,2} && A isa ShmMatrix{Float64} && A isa WrappedArray{Float64,2,IPC.ArrayHandle}
    @test size(A) == (3, 4) && all(iszero, A)                         # zero-filled
    @test shmid(A) == name && isopen(A) && !isreadonly(A)
    @test UInt(pointer(A)) % IPC.IPC_ARRAY_ALIGN == 0
    @test Base.unsafe_convert(Ptr{Cvoid}, A.mem) == A.mem.handle != C_NULL
    A[2, 3] = 12.5                       # a[1, 2] in Python, data[1 + 3*2] in C
    @test unsafe_load(Ptr{Float64}(pointer(A)), 1 + 1 + 3 * 2) == 12.5

    B = WrappedArray(name)
    @test B isa ShmMatrix{Float64} && size(B) == (3, 4) && B[2, 3] == 12.5
    @test pointer(B) != pointer(A)       # a second mapping of the same memory
    B[3, 4] = -1
    @test A[3, 4] == -1
    R = ShmMatrix(name; readonly = true)
    @test isreadonly(R) && R[3, 4] == -1
    @test_throws ReadOnlyMemoryError R[1, 1] = 1.0
    @test_throws ArgumentError ShmVector(name)        # it is a matrix
    foreach(close, (B, R))
    @test !isopen(B)
    close(B)                              # closing again does nothing

    # The header, byte for byte: IPC.jl's layout.
    shm = SharedMemory(name; readonly = true)
    @test sizeof(shm) == 64 + 8 * 12
    @test read(shm, WrappedArrayHeader) == (Float64, (3, 4), 64)
    h = unsafe_load(Ptr{WrappedArrayHeader}(pointer(shm)))
    @test (h.magic, h.etype, h.ndims, h.offset) == (IPC.IPC_ARRAY_MAGIC, IPC.IPC_FLOAT64, 2, 64)
    W = WrappedArray(shm, m -> read(m, WrappedArrayHeader))   # IPC.jl's way to attach
    @test W isa ShmMatrix{Float64} && W[2, 3] == 12.5
    close(shm)

    @test errno_of(() -> WrappedArray(name, Float64, 3, 4)) == Libc.EEXIST   # exclusive
    close(A)                              # volatile (the default): removed
    @test errno_of(() -> WrappedArray(name)) == Libc.ENOENT
end

@testset "every element type" begin
    for (code, T) in enumerate((Int8, UInt8, Int16, UInt16, Int32, UInt32, Int64, UInt64,
                                Float32, Float64, ComplexF32, ComplexF64))
        name = unique_name("eltype$code")
        A = ShmVector(name, T, 5)
        @test A isa ShmVector{T} && IPC._eltype_code(T) == code
        A[:] = T.(1:5)
        B = ShmArray(name)
        @test B isa ShmVector{T} && B == T.(1:5)
        @test read(SharedMemory(name; readonly = true), WrappedArrayHeader)[1] === T
        close(B)
        close(A)
    end
    @test_throws ArgumentError WrappedArray(unique_name("bad"), Bool, 3)
    @test_throws ArgumentError WrappedArray(unique_name("bad"), Float16, 3)
    @test_throws ArgumentError IPC._eltype_code(String)
end

@testset "ShmArray: keys, ids, keywords" begin
    seg = ShmArray(IPC.PRIVATE, Int32, (2, 3, 4))
    @test seg isa ShmArray{Int32,3} && shmid(seg) isa ShmId
    seg[2, 3, 4] = 99
    byid = ShmArray(shmid(seg); readonly = true)
    @test byid[2, 3, 4] == 99 && byid[end] == 99 && isreadonly(byid)
    close(byid)
    close(seg)                            # volatile: the segment goes
    @test errno_of(() -> ShmArray(shmid(seg))) == Libc.ENOENT

    path = tempname()
    touch(path)
    key = IPC.Key(path, 3)
    rm(SharedMemory, key)                 # a leftover of an earlier run, if any
    K = ShmVector(key, UInt16, 10; volatile = false, perms = 0o640)
    @test shminfo(key).mode == 0o640
    K[10] = 7
    again = WrappedArray(key)
    @test again[10] == 7 && shmid(again) == shmid(K)
    foreach(close, (K, again))
    @test sizeof(ShmId(key)) == 64 + 20   # not volatile: still there
    rm(SharedMemory, key)
    rm(path)

    name = unique_name("keywords")
    M = ShmMatrix(name, ComplexF32, 2, 2; volatile = false)
    close(M)
    opened = ShmArray(name; volatile = true)   # removed when this handle closes
    @test opened isa ShmMatrix{ComplexF32}
    close(opened)
    @test errno_of(() -> shminfo(name)) == Libc.ENOENT
end

@testset "arrays in memory the caller has" begin
    name = unique_name("wrap")
    shm = SharedMemory(name, 4096)
    write(shm, WrappedArrayHeader, Int16, 4, 4)
    @test read(shm, WrappedArrayHeader) == (Int16, (4, 4), 64)
    A = WrappedArray(shm, m -> read(m, WrappedArrayHeader))
    @test A isa ShmMatrix{Int16} && A isa WrappedArray{Int16,2,SharedMemory{String}}
    A[4, 4] = 5
    @test unsafe_load(Ptr{Int16}(pointer(shm) + 64), 16) == 5
    @test IPC._wrapped_array_header_size(6) == 64 && IPC._wrapped_array_header_size(7) == 128
    @test_throws ArgumentError IPC._wrapped_array_header_size(0)
    @test_throws ArgumentError write(shm, WrappedArrayHeader, Int16, 100, 100)   # does not fit
    close(shm)

    # A hostile header is refused with EBADMSG; one not yet written with EAGAIN.
    bytes = zeros(UInt8, 128)
    @test errno_of(() -> read(bytes, WrappedArrayHeader)) == Libc.EAGAIN
    write(bytes, WrappedArrayHeader, Float64, 8)
    bytes[5] = 99                         # element type code
    @test errno_of(() -> read(bytes, WrappedArrayHeader)) == Libc.EBADMSG
    hostile = unique_name("hostile")
    shm = SharedMemory(hostile, 128)
    unsafe_copyto!(Ptr{UInt8}(pointer(shm)), pointer(bytes), 128)
    @test errno_of(() -> WrappedArray(hostile)) == Libc.EBADMSG
    close(shm)
end

@testset "errors" begin
    name = unique_name("errors")
    @test_throws ArgumentError WrappedArray(name, Float64)              # no dimensions
    @test_throws ArgumentError WrappedArray(name, Float64, 0)           # a dimension below 1
    @test_throws ArgumentError WrappedArray(name, Float64, ntuple(_ -> 1, 33))
    @test_throws ArgumentError WrappedArray(name, Float64, 3; perms = 0o1000)
    @test_throws ArgumentError WrappedArray("no-slash", Float64, 3)
    @test_throws ArgumentError WrappedArray(ShmId(1), Float64, 3)     # segments are made by key
    @test errno_of(() -> WrappedArray(name)) == Libc.ENOENT
end

@testset "arrays across processes" begin
    name = unique_name("cross")
    A = WrappedArray(name, Float64, 3, 4)
    A[2, 3] = 1.5
    out = in_child("""
        A = WrappedArray("$name")
        print(typeof(A) <: ShmMatrix{Float64}, " ", size(A), " ", A[2, 3])
        A[3, 4] = 42
        close(A)
        """)
    @test out == "true (3, 4) 1.5"
    @test A[3, 4] == 42
    out = in_child("""
        A = ShmArray("$name"; readonly = true)
        try
            A[1, 1] = 1
        catch err
            print(typeof(err))
        end
        """)
    @test out == "ReadOnlyMemoryError"
    close(A)
end

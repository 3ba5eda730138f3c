"""A small CPU ray tracer: spheres, a checkerboard ground, point lights and an
environment image, rendered row-parallel into a float32 RGB image.

Modules:
    vector: `Vec3` (three float32 lanes of a 4-lane SIMD vector) and its algebra.
    material: surface response (colour, albedo, specular weight and exponent,
        reflectivity).
    sphere: spheres and ray-sphere intersection.
    ground: the checkerboard ground plane.
    light: point lights.
    environment: the background, read in place from a Python buffer through a
        bufferable `MemoryView`.
    scene: the camera and everything in view; the demo's floor, lights and
        camera.
    scene_records: the spheres as records (`SphereRecord`), read in place
        from a numpy structured array through a bufferable `RecordView`.
    image: the rendered image, one 16-byte SIMD pixel per sample; `Bufferable`,
        so numpy views it as (H, W, 3) float32 without a copy.
    threads: a small pthread worker pool (Mojo 1.2.0's `mojo` package ships no
        `parallelize`).
    render: shading, shadows, reflections and the parallel row loop.
"""

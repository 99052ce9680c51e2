/*
 * Linked into the NativeAOT `sealer` on Linux (Sealer.Cli.csproj): runs before the runtime starts, and asks the kernel to
 * back the executable's zero-filled data (.bss and NativeAOT's .hydrated, ~7 MB that the runtime writes in full while it
 * rehydrates its data at start-up) with transparent huge pages where the range allows, then to fault it all in with one
 * call. Without it, each of those ~1,700 4 KiB pages (x64) is a separate page fault on first write, which is most of the
 * start-up on a VM whose faults are slow (build/bench/RESULTS.md, "`sealer` start-up: the rehydrated data"). Both calls
 * are hints: a kernel without MADV_POPULATE_WRITE (< 5.14) or with THP off refuses them, and the pages fault in as before.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_HUGEPAGE
#define MADV_HUGEPAGE 14
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int sealer_prefault_main_program(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t page = (uintptr_t)*(const long *)data;
    for (int i = 0; i < info->dlpi_phnum; i++)
    {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W) || ph->p_memsz <= ph->p_filesz)
            continue;
        /* The segment's part past its file bytes: anonymous zero pages (the first, shared with file bytes, is left alone). */
        uintptr_t start = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) & ~(page - 1);
        if (end <= start)
            continue;
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
        (void)madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
    return 1; /* the first object is the main program: stop there */
}

__attribute__((constructor)) static void sealer_prefault(void)
{
    long page = sysconf(_SC_PAGESIZE); /* 4 KiB on x64; 4, 16 or 64 KiB on arm64 */
    if (page > 0 && (page & (page - 1)) == 0)
        dl_iterate_phdr(sealer_prefault_main_program, &page);
}

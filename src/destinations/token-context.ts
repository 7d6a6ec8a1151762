/**
 * The sealing context of a destination's HubSpot token: the API seals with it, the worker opens with it.
 * Binding the ciphertext to the destination id means a sealed token copied to another destination does
 * not open. Shared by both processes, so it lives outside activities/ and the API.
 */
export const tokenContext = (destinationId: string): string => `destination:${destinationId}`;

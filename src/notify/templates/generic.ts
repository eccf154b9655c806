/** Free text for procedures that have no template of their own yet; the caller writes both languages' text. */
import { z } from 'zod'
import { defineTemplate, webUrl } from './shared'

const data = z.object({
  subject: z.string().trim().min(1),
  /** Defaults to the subject. */
  heading: z.string().optional(),
  paragraphs: z.array(z.string()).min(1),
  link: z.object({ label: z.string().min(1), url: webUrl }).optional(),
})

export const generic = defineTemplate({
  data,
  content: {
    fr: (d) => ({ subject: d.subject, heading: d.heading ?? d.subject, paragraphs: d.paragraphs, facts: [], link: d.link }),
    en: (d) => ({ subject: d.subject, heading: d.heading ?? d.subject, paragraphs: d.paragraphs, facts: [], link: d.link }),
  },
})

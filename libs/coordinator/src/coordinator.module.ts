import { Module } from '@nestjs/common';
import { CoordinatorState } from './coordinator-state.js';

@Module({
  providers: [CoordinatorState],
  exports: [CoordinatorState],
})
export class CoordinatorModule {}
